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
// evergreen's client does. No session resumption on either side, and one
// session ticket per handshake on both: OpenSSL's client always offers
// resumption (the psk_key_exchange_modes extension), so evergreen's server
// sends its one ticket and evergreen's client reads it and drops it. Go's
// client offers resumption only with a ClientSessionCache, and Go's server
// sends no ticket to a client that does not offer it; so Go's client gets a
// cache that keeps nothing (discardingSessionCache): it offers resumption,
// Go's server sends its one ticket, Go's client reads it and drops it, and
// no handshake resumes.
//
//	tls_echo -cert=cert.pem -key=key.pem -seconds=3 -megabytes=256
//
// -echo=false, -bulk=false or -handshakes=false leave that part out (to
// profile one part alone, as bench/tls_echo's --echo=0 etc.).
//
// Prints lines in the format of bench/tls_echo (each rate also per CPU second
// of the whole process, user + system time of every thread, from getrusage),
// plus the negotiated version and cipher suite.
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
	"syscall"
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

// discardingSessionCache makes Go's client offer resumption (so that Go's
// server sends a session ticket, as evergreen's does to OpenSSL's client)
// without ever resuming: it keeps nothing, and counts the tickets it was
// offered (printed, to show the servers' work is alike).
type discardingSessionCache struct{ tickets *int64 }

func (discardingSessionCache) Get(string) (*tls.ClientSessionState, bool) { return nil, false }
func (cache discardingSessionCache) Put(_ string, session *tls.ClientSessionState) {
	if session != nil {
		atomic.AddInt64(cache.tickets, 1)
	}
}

type dialer func() net.Conn

// cpuSeconds is the user + system CPU time of the whole process so far.
func cpuSeconds() float64 {
	var usage syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &usage); err != nil {
		fail(err)
	}
	return float64(usage.Utime.Nano()+usage.Stime.Nano()) / 1e9
}

// measured is what one part counted, over how much wall-clock and CPU time.
type measured struct{ count, wallSeconds, cpuSeconds float64 }

func (m measured) perSecond() float64    { return m.count / m.wallSeconds }
func (m measured) perCPUSecond() float64 { return m.count / m.cpuSeconds }

// stopwatch starts both clocks; stop fills in the elapsed times.
type stopwatch struct {
	wallStart time.Time
	cpuStart  float64
}

func startStopwatch() stopwatch { return stopwatch{time.Now(), cpuSeconds()} }

func (s stopwatch) stop(count float64) measured {
	return measured{count, time.Since(s.wallStart).Seconds(), cpuSeconds() - s.cpuStart}
}

func echoRate(dial dialer, connections int, seconds float64) measured {
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
	clock := startStopwatch()
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
	result := clock.stop(float64(requests))
	for _, conn := range conns {
		conn.Close()
	}
	return result
}

// closeWriter is what both *net.TCPConn and *tls.Conn offer: shutdown of the
// sending side (close_notify for TLS), as evergreen's shutdown().
type closeWriter interface {
	CloseWrite() error
}

func bulkRate(dial dialer, megabytes int) measured {
	conn := dial()
	defer conn.Close()
	chunk := make([]byte, 1<<20)
	for i := range chunk {
		chunk[i] = 'b'
	}
	clock := startStopwatch()
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
	return clock.stop(float64(received) / 1e6)
}

func handshakeRate(address string, config *tls.Config, seconds float64) (measured, tls.ConnectionState) {
	handshakes := 0
	reply := make([]byte, 1)
	var state tls.ConnectionState
	clock := startStopwatch()
	for time.Since(clock.wallStart).Seconds() < seconds {
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
		if state.DidResume {
			fail(fmt.Errorf("a handshake resumed a session"))
		}
		conn.Close()
		handshakes++
	}
	return clock.stop(float64(handshakes)), state
}

func main() {
	seconds := flag.Float64("seconds", 3, "seconds per echo and handshake measurement")
	megabytes := flag.Int("megabytes", 256, "megabytes streamed in the bulk measurement")
	connections := flag.Int("connections", 100, "persistent connections in the echo measurement")
	certFile := flag.String("cert", "", "PEM certificate (also the client's only trusted CA)")
	keyFile := flag.String("key", "", "PEM private key of --cert")
	runEcho := flag.Bool("echo", true, "run the echo part")
	runBulk := flag.Bool("bulk", true, "run the bulk part")
	runHandshakes := flag.Bool("handshakes", true, "run the handshakes part")
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
	var tickets int64
	serverConfig := &tls.Config{
		Certificates:     []tls.Certificate{certificate},
		MinVersion:       tls.VersionTLS13,
		MaxVersion:       tls.VersionTLS13,
		CurvePreferences: []tls.CurveID{tls.X25519},
	}
	clientConfig := &tls.Config{
		RootCAs:            roots,
		ServerName:         "localhost",
		ClientSessionCache: discardingSessionCache{&tickets},
		MinVersion:         tls.VersionTLS13,
		MaxVersion:         tls.VersionTLS13,
		CurvePreferences:   []tls.CurveID{tls.X25519},
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

	if *runEcho {
		tcpEcho := echoRate(dialTCP, *connections, *seconds)
		tlsEcho := echoRate(dialTLS, *connections, *seconds)
		fmt.Printf("echo (%d connections, 64 B): TCP %.0f req/s, TLS %.0f req/s (%.2fx)\n",
			*connections, tcpEcho.perSecond(), tlsEcho.perSecond(), tlsEcho.perSecond()/tcpEcho.perSecond())
		fmt.Printf("echo per CPU second: TCP %.0f req/cpu-s, TLS %.0f req/cpu-s\n",
			tcpEcho.perCPUSecond(), tlsEcho.perCPUSecond())
	}
	if *runBulk {
		tcpBulk := bulkRate(dialTCP, *megabytes)
		tlsBulk := bulkRate(dialTLS, *megabytes)
		fmt.Printf("bulk (%d MB echoed): TCP %.0f MB/s, TLS %.0f MB/s (%.2fx)\n", *megabytes,
			tcpBulk.perSecond(), tlsBulk.perSecond(), tlsBulk.perSecond()/tcpBulk.perSecond())
		fmt.Printf("bulk per CPU second: TCP %.0f MB/cpu-s, TLS %.0f MB/cpu-s\n",
			tcpBulk.perCPUSecond(), tlsBulk.perCPUSecond())
	}
	if *runHandshakes {
		ticketsBefore := atomic.LoadInt64(&tickets)
		handshakes, state := handshakeRate(tlsAddress, clientConfig, *seconds)
		ticketsPerHandshake := float64(atomic.LoadInt64(&tickets)-ticketsBefore) / handshakes.count
		fmt.Printf("handshakes (TLS 1.3, P-256, both ends on this thread): %.0f /s\n",
			handshakes.perSecond())
		fmt.Printf("handshakes per CPU second: %.0f /cpu-s\n", handshakes.perCPUSecond())
		version := "not TLS 1.3"
		if state.Version == tls.VersionTLS13 {
			version = "TLS 1.3"
		}
		fmt.Printf("negotiated: %s %s, %.2f session tickets per handshake (none resumed)\n", version,
			tls.CipherSuiteName(state.CipherSuite), ticketsPerHandshake)
	}
	tlsListener.Close()
	tcpListener.Close()
}
