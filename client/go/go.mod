// Floors as low as the code allows (the stubs of protoc-gen-go-grpc 1.5 need
// grpc-go 1.64): the client's own tests run on them, the contract and
// middleware tests (tests/) on the newest, and tests/packaging builds a fresh
// module on them.
module github.com/hookguard/hookguard/client/go

go 1.21

require (
	google.golang.org/grpc v1.64.1
	google.golang.org/protobuf v1.34.1
)

require (
	golang.org/x/net v0.26.0 // indirect
	golang.org/x/sys v0.21.0 // indirect
	golang.org/x/text v0.16.0 // indirect
	google.golang.org/genproto/googleapis/rpc v0.0.0-20240318140521-94a12d6c2237 // indirect
)
