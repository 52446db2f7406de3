module evergreen/bench/go_compare

go 1.19
