module github.com/egovkit/egovkit/bench

go 1.26

replace github.com/egovkit/egovkit => ../
