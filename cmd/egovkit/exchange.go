package main

import "github.com/egovkit/egovkit/exchange"

func init() {
	registerSchema("exchange", "the exchange/1 message envelope", exchange.EnvelopeSchema)
	registerSchema("directory", "the exchange directory of members, nodes, resources and grants", exchange.DirectorySchema)
}
