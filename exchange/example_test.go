package exchange_test

import (
	"errors"
	"fmt"

	"github.com/egovkit/egovkit/exchange"
)

// A business receipt (签收回执) as it travels, and one that lacks who signed
// for the document.
func ExampleParseReceipt() {
	r, err := exchange.ParseReceipt([]byte(`{"status":"signedFor","messageId":"01936f8e-7b2a-7c3d-9e4f-5a6b7c8d9e0f",
"received":"2025-03-18T08:30:00Z","at":"2025-03-18T09:05:00Z","by":{"name":"张三"},
"digest":{"alg":"sha256","value":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}}`))
	if err != nil {
		panic(err)
	}
	fmt.Println(r.Status, r.By, r.At.UTC().Format("15:04"))

	_, err = exchange.ParseReceipt([]byte(`{"status":"signedFor","messageId":"01936f8e-7b2a-7c3d-9e4f-5a6b7c8d9e0f",
"received":"2025-03-18T08:30:00Z","at":"2025-03-18T09:05:00Z",
"digest":{"alg":"sha256","value":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}}`))
	var pe *exchange.PayloadError
	if errors.As(err, &pe) {
		for _, v := range pe.Violations {
			fmt.Println(v.Pointer, v.Rule)
		}
	}
	// Output:
	// signedFor 张三 09:05
	// /by exchange.receipt.signed-by-required
}
