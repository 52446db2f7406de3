module evergreen/bench/go/cold_start

go 1.19
