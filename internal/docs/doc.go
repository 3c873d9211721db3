// Package docs holds the tests that keep egovkit's documentation honest:
// every sample in README.md is run, so that none can rot.
//
// The rules for README.md's fenced blocks:
//
//   - A ```go block is a whole program (package main) whose doc comment
//     starts "// Command NAME". It is saved as NAME/main.go in the samples'
//     workspace (below). If a ```sh block runs it (go run ./NAME), that
//     block is its test; otherwise it is run on its own (go run ./NAME)
//     and must exit 0.
//   - A ```sh block is run with bash -euo pipefail in a fresh workspace: a
//     temporary directory that holds a symbolic link to each top-level
//     entry of the repository, so that a sample reads files as it would
//     from the root of a clone while what it writes stays in the
//     workspace, and the README's Go programs as NAME/main.go. A freshly
//     built egovkit is first on PATH. The block must exit 0 within its
//     time limit and leave no process behind: a sample that starts a
//     gateway in the background (cmd &) waits for it to listen, does its
//     work, then stops it (kill %1 && wait).
//   - A line "<!-- readme-test: skip: REASON -->" just before a block
//     keeps the test from running it; the reason is required and the test
//     logs it. No other block is left out.
//   - Blocks of other languages (```json and the like) are data shown to
//     the reader, not programs.
//
// Every egovkit command line that README.md mentions, in a code span or a
// shell sample, is checked against the CLI as well: the command must exist
// and each --flag written after it must be one that its --help lists.
package docs
