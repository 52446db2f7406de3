module evergreen/bench/go/tls_echo

go 1.19
