module evergreen/bench/go/cross_loop

go 1.19
