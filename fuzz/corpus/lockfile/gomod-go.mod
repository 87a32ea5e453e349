module example.com/app

go 1.21

require golang.org/x/text v0.3.5

require (
	golang.org/x/net v0.0.0-20210510120150-4163338589ed // indirect
	github.com/old/lib v1.0.0
	github.com/local/lib v0.1.0
)

replace github.com/old/lib v1.0.0 => github.com/new/lib v1.2.0

replace github.com/local/lib => ../lib
