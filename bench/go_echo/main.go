// The echo benchmark's Go server: the idiomatic net echo server, a goroutine
// per connection reading lines and writing them back. Standard library only;
// run with GOMAXPROCS=1 to compare with one evergreen loop thread.
//
//	go_echo -port=0
//
// Prints "port N" once listening.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"net"
	"os"
)

func handle(conn net.Conn) {
	defer conn.Close()
	reader := bufio.NewReaderSize(conn, 4096)
	for {
		line, err := reader.ReadSlice('\n')
		if err != nil {
			return
		}
		if _, err := conn.Write(line); err != nil {
			return
		}
	}
}

func main() {
	port := flag.Int("port", 0, "TCP port on 127.0.0.1 (0: any free port)")
	flag.Parse()
	listener, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", *port))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("port %d\n", listener.Addr().(*net.TCPAddr).Port)
	for {
		conn, err := listener.Accept()
		if err != nil {
			return
		}
		go handle(conn)
	}
}
