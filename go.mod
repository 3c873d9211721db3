module github.com/egovkit/egovkit

go 1.26.0

require (
	github.com/emmansun/gmsm v0.15.5
	github.com/google/uuid v1.6.0
	github.com/santhosh-tekuri/jsonschema/v6 v6.0.3
	github.com/stretchr/testify v1.12.1
	golang.org/x/text v0.44.0
)

require (
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/sys v0.3.0 // indirect
)
