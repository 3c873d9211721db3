module github.com/egovkit/egovkit/bench

go 1.26.0

replace github.com/egovkit/egovkit => ../

require (
	github.com/egovkit/egovkit v0.0.0-00010101000000-000000000000
	github.com/emmansun/gmsm v0.15.5
	github.com/go-jose/go-jose/v4 v4.1.9
	github.com/gowebpki/jcs v1.0.2
)

require (
	golang.org/x/crypto v0.59.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
)
