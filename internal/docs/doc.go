// Package docs holds the tests that keep egovkit's documentation honest:
// every Go program in README.md is compiled and run.
package docs
