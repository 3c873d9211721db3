module github.com/egovkit/egovkit/bench

go 1.26.0

replace github.com/egovkit/egovkit => ../

require (
	github.com/egovkit/egovkit v0.0.0-00010101000000-000000000000
	github.com/rickar/cal/v2 v2.1.13
)

require (
	github.com/santhosh-tekuri/jsonschema/v6 v6.0.3 // indirect
	golang.org/x/text v0.41.0 // indirect
)
