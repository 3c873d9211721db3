package main

import "github.com/egovkit/egovkit/exchange"

func init() {
	registerSchema("exchange", "the exchange/1 message envelope", exchange.EnvelopeSchema)
	registerSchema("directory", "the exchange directory of members, nodes, resources and grants", exchange.DirectorySchema)
	registerSchema("receipt", "the payload of an exchange receipt (送达, 签收, 退回)", exchange.ReceiptSchema)
	registerSchema("notice", "the payload of an exchange recall (撤回) or urge (催办)", exchange.NoticeSchema)
}
