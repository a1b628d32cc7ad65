module github.com/hookguard/hookguard/tests/differential/readers/go

go 1.22
