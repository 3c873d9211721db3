// Package bench compares egovkit with peer libraries, side by side in one
// run. It is its own module so that the SDK's go.mod carries only what the
// SDK needs at run time; peers appear only here.
//
// Run everything with:
//
//	cd bench && go test -run '^$' -bench . -benchmem -count 10 | tee new.txt
//	go run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da new.txt
//
// Each file holds one comparison; its doc comment says what is compared and
// the target ratio.
package bench
