// Go's crypto/tls peer of bench/tls_echo.cc, the same workload in one process
// with client and server goroutines sharing one OS thread (run with
// GOMAXPROCS=1, pinned to one CPU, as bench/run_tls_compare.sh does):
//   - echo: --connections persistent connections, 64-byte request/response
//     messages, for --seconds; requests per second over TLS and over TCP;
//   - bulk: one connection streaming --megabytes through the echo server and
//     back; MB/s over each;
//   - handshakes: connect + handshake + one round trip + close, one after
//     another, for --seconds; handshakes per second.
//
// TLS 1.3 only, X25519 key exchange, TLS_AES_128_GCM_SHA256 (Go 1.19 always
// picks it first with AES hardware), the certificate and key given by --cert
// and --key (the script makes one P-256 ECDSA pair for both benchmarks). The
// client verifies the chain against --cert and the name "localhost", as
// evergreen's client does. No session resumption on either side: Go's client
// has no session cache by default, like evergreen's.
//
//	tls_echo -cert=cert.pem -key=key.pem -seconds=3 -megabytes=256
//
// Prints lines in the format of bench/tls_echo, plus the negotiated version
// and cipher suite.
package main

import (
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

func fail(err error) {
	fmt.Fprintln(os.Stderr, "go tls_echo:", err)
	os.Exit(1)
}

// echoServer accepts on listener until it is closed, echoing each connection
// in its own goroutine (the idiomatic Go server).
func echoServer(listener net.Listener) {
	for {
		conn, err := listener.Accept()
		if err != nil {
			return
		}
		go func(conn net.Conn) {
			defer conn.Close()
			buffer := make([]byte, 1<<16)
			for {
				n, err := conn.Read(buffer)
				if n > 0 {
					if _, werr := conn.Write(buffer[:n]); werr != nil {
						return
					}
				}
				if err != nil {
					return
				}
			}
		}(conn)
	}
}

type dialer func() net.Conn

func echoRate(dial dialer, connections int, seconds float64) float64 {
	conns := make([]net.Conn, connections)
	for i := range conns {
		conns[i] = dial()
	}
	message := make([]byte, 64)
	for i := range message {
		message[i] = 'm'
	}
	var requests int64
	var stop atomic.Bool
	var done sync.WaitGroup
	start := time.Now()
	for _, conn := range conns {
		done.Add(1)
		go func(conn net.Conn) {
			defer done.Done()
			reply := make([]byte, len(message))
			for !stop.Load() {
				if _, err := conn.Write(message); err != nil {
					fail(err)
				}
				if _, err := io.ReadFull(conn, reply); err != nil {
					fail(err)
				}
				atomic.AddInt64(&requests, 1)
			}
		}(conn)
	}
	time.Sleep(time.Duration(seconds * float64(time.Second)))
	stop.Store(true)
	done.Wait()
	rate := float64(requests) / time.Since(start).Seconds()
	for _, conn := range conns {
		conn.Close()
	}
	return rate
}

// closeWriter is what both *net.TCPConn and *tls.Conn offer: shutdown of the
// sending side (close_notify for TLS), as evergreen's shutdown().
type closeWriter interface {
	CloseWrite() error
}

func bulkRate(dial dialer, megabytes int) float64 {
	conn := dial()
	defer conn.Close()
	chunk := make([]byte, 1<<20)
	for i := range chunk {
		chunk[i] = 'b'
	}
	start := time.Now()
	go func() {
		for i := 0; i < megabytes; i++ {
			if _, err := conn.Write(chunk); err != nil {
				fail(err)
			}
		}
		if err := conn.(closeWriter).CloseWrite(); err != nil {
			fail(err)
		}
	}()
	received, err := io.Copy(io.Discard, conn)
	if err != nil {
		fail(err)
	}
	return float64(received) / 1e6 / time.Since(start).Seconds()
}

func handshakeRate(address string, config *tls.Config, seconds float64) (float64, tls.ConnectionState) {
	handshakes := 0
	reply := make([]byte, 1)
	var state tls.ConnectionState
	start := time.Now()
	for time.Since(start).Seconds() < seconds {
		conn, err := tls.Dial("tcp", address, config)
		if err != nil {
			fail(err)
		}
		if _, err := conn.Write([]byte("x")); err != nil {
			fail(err)
		}
		if _, err := io.ReadFull(conn, reply); err != nil {
			fail(err)
		}
		state = conn.ConnectionState()
		conn.Close()
		handshakes++
	}
	return float64(handshakes) / time.Since(start).Seconds(), state
}

func main() {
	seconds := flag.Float64("seconds", 3, "seconds per echo and handshake measurement")
	megabytes := flag.Int("megabytes", 256, "megabytes streamed in the bulk measurement")
	connections := flag.Int("connections", 100, "persistent connections in the echo measurement")
	certFile := flag.String("cert", "", "PEM certificate (also the client's only trusted CA)")
	keyFile := flag.String("key", "", "PEM private key of --cert")
	flag.Parse()

	certificate, err := tls.LoadX509KeyPair(*certFile, *keyFile)
	if err != nil {
		fail(err)
	}
	pem, err := os.ReadFile(*certFile)
	if err != nil {
		fail(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		fail(fmt.Errorf("%s holds no PEM certificate", *certFile))
	}
	serverConfig := &tls.Config{
		Certificates:     []tls.Certificate{certificate},
		MinVersion:       tls.VersionTLS13,
		MaxVersion:       tls.VersionTLS13,
		CurvePreferences: []tls.CurveID{tls.X25519},
	}
	clientConfig := &tls.Config{
		RootCAs:          roots,
		ServerName:       "localhost",
		MinVersion:       tls.VersionTLS13,
		MaxVersion:       tls.VersionTLS13,
		CurvePreferences: []tls.CurveID{tls.X25519},
	}

	tlsListener, err := tls.Listen("tcp", "127.0.0.1:0", serverConfig)
	if err != nil {
		fail(err)
	}
	tcpListener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail(err)
	}
	go echoServer(tlsListener)
	go echoServer(tcpListener)
	tlsAddress := tlsListener.Addr().String()
	tcpAddress := tcpListener.Addr().String()
	dialTLS := func() net.Conn {
		conn, err := tls.Dial("tcp", tlsAddress, clientConfig)
		if err != nil {
			fail(err)
		}
		return conn
	}
	dialTCP := func() net.Conn {
		conn, err := net.Dial("tcp", tcpAddress)
		if err != nil {
			fail(err)
		}
		return conn
	}

	tcpEcho := echoRate(dialTCP, *connections, *seconds)
	tlsEcho := echoRate(dialTLS, *connections, *seconds)
	fmt.Printf("echo (%d connections, 64 B): TCP %.0f req/s, TLS %.0f req/s (%.2fx)\n",
		*connections, tcpEcho, tlsEcho, tlsEcho/tcpEcho)
	tcpBulk := bulkRate(dialTCP, *megabytes)
	tlsBulk := bulkRate(dialTLS, *megabytes)
	fmt.Printf("bulk (%d MB echoed): TCP %.0f MB/s, TLS %.0f MB/s (%.2fx)\n", *megabytes, tcpBulk,
		tlsBulk, tlsBulk/tcpBulk)
	handshakes, state := handshakeRate(tlsAddress, clientConfig, *seconds)
	fmt.Printf("handshakes (TLS 1.3, P-256, both ends on this thread): %.0f /s\n", handshakes)
	version := "not TLS 1.3"
	if state.Version == tls.VersionTLS13 {
		version = "TLS 1.3"
	}
	fmt.Printf("negotiated: %s %s\n", version, tls.CipherSuiteName(state.CipherSuite))
	tlsListener.Close()
	tcpListener.Close()
}
