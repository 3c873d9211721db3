package main

import "github.com/egovkit/egovkit/exchange"

func init() {
	registerSchema("exchange", "the exchange/1 message envelope", exchange.EnvelopeSchema)
}
