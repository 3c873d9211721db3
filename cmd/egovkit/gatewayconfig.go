package main

import (
	"context"
	"log/slog"

	"github.com/egovkit/egovkit/exchange"
)

// node is a gateway opened from its configuration file (see
// exchange.GatewayFile).
type node struct {
	cfg *exchange.GatewayFile
	gw  *exchange.Gateway
}

// Close closes the gateway and the store it opened.
func (n *node) Close() error { return n.gw.Close() }

// openNode reads a configuration and opens its node: keys, certificates,
// the directory (which must open now), the store and the spool.
func openNode(ctx context.Context, file string, logger *slog.Logger) (*node, error) {
	c, err := exchange.ReadGatewayFile(file)
	if err != nil {
		return nil, err
	}
	gw, err := c.Open(ctx, logger)
	if err != nil {
		return nil, err
	}
	return &node{cfg: c, gw: gw}, nil
}
