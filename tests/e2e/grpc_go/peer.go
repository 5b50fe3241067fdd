// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)

// A gRPC server and client in grpc-go (Debian's golang-google-grpc-dev),
// speaking what tests/e2e/grpc_peer.py speaks, so the end-to-end tests can
// put either peer on either side. No generated code: messages are raw
// bytes (a codec registered as "proto" passes them through). A request says
// what its call does: "<delay ms> <status code> [<messages>]".
//
//	peer server PORT
//	    service lp.test.Echo: Unary (answers after the delay with the
//	    code), ServerStream (<messages> replies, the delay between each,
//	    then the code), ClientStream (reads every request, answers the
//	    first's code); and grpc.health.v1.Health/Check (SERVING).
//	peer client PORT CALL...
//	    CALL is METHOD:DELAY:CODE[:N][@TIMEOUT] (METHOD unary, sstream,
//	    cstream, health), all on one channel; prints one JSON line per
//	    call: its method path, the status code the client got and the
//	    client's own seconds from the call's start to its end.
//	peer hold PORT SECONDS CALL...
//	    as client, but opens the channel (and makes one call) first, then
//	    prints "ready", waits SECONDS, and makes the calls on that channel.
//
// Built offline by tests/e2e/test_grpc.py: GO111MODULE=off, GOPATH
// /usr/share/gocode.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/status"
)

const service = "lp.test.Echo"

var paths = map[string]string{
	"unary":   "/" + service + "/Unary",
	"sstream": "/" + service + "/ServerStream",
	"cstream": "/" + service + "/ClientStream",
	"health":  "/grpc.health.v1.Health/Check",
}

// rawCodec passes messages through as bytes; registered under "proto",
// the name grpc-go sends as content-type application/grpc (+proto).
type rawCodec struct{}

func (rawCodec) Marshal(v interface{}) ([]byte, error) {
	if b, ok := v.(*[]byte); ok {
		return *b, nil
	}
	return nil, fmt.Errorf("raw codec: %T is not *[]byte", v)
}

func (rawCodec) Unmarshal(data []byte, v interface{}) error {
	b, ok := v.(*[]byte)
	if !ok {
		return fmt.Errorf("raw codec: %T is not *[]byte", v)
	}
	*b = append((*b)[:0], data...)
	return nil
}

func (rawCodec) Name() string { return "proto" }

type ask struct {
	delay time.Duration
	code  codes.Code
	n     int
}

func parse(req []byte) (ask, error) {
	f := strings.Fields(string(req))
	a := ask{n: 1}
	if len(f) < 2 {
		return a, status.Error(codes.InvalidArgument, "want \"<delay ms> <code> [n]\"")
	}
	ms, err1 := strconv.Atoi(f[0])
	code, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil || code < 0 || code > 16 {
		return a, status.Error(codes.InvalidArgument, "bad request")
	}
	a.delay = time.Duration(ms) * time.Millisecond
	a.code = codes.Code(code)
	if len(f) > 2 {
		if n, err := strconv.Atoi(f[2]); err == nil && n >= 0 {
			a.n = n
		}
	}
	return a, nil
}

func finish(code codes.Code) error {
	if code != codes.OK {
		return status.Error(code, "asked for")
	}
	return nil
}

func unary(_ interface{}, _ context.Context, dec func(interface{}) error,
	_ grpc.UnaryServerInterceptor) (interface{}, error) {
	var req []byte
	if err := dec(&req); err != nil {
		return nil, err
	}
	a, err := parse(req)
	if err != nil {
		return nil, err
	}
	time.Sleep(a.delay)
	if err := finish(a.code); err != nil {
		return nil, err
	}
	out := []byte("ok")
	return &out, nil
}

func health(_ interface{}, _ context.Context, dec func(interface{}) error,
	_ grpc.UnaryServerInterceptor) (interface{}, error) {
	var req []byte
	if err := dec(&req); err != nil {
		return nil, err
	}
	out := []byte{0x08, 0x01} // HealthCheckResponse{status: SERVING}
	return &out, nil
}

func serverStream(_ interface{}, s grpc.ServerStream) error {
	var req []byte
	if err := s.RecvMsg(&req); err != nil {
		return err
	}
	a, err := parse(req)
	if err != nil {
		return err
	}
	for i := 0; i < a.n; i++ {
		time.Sleep(a.delay)
		part := []byte(fmt.Sprintf("part %d", i))
		if err := s.SendMsg(&part); err != nil {
			return err
		}
	}
	return finish(a.code)
}

func clientStream(_ interface{}, s grpc.ServerStream) error {
	var first, req []byte
	for {
		err := s.RecvMsg(&req)
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if first == nil {
			first = append([]byte(nil), req...)
		}
	}
	a, err := parse(first)
	if err != nil {
		return err
	}
	time.Sleep(a.delay)
	if err := finish(a.code); err != nil {
		return err
	}
	out := []byte("ok")
	return s.SendMsg(&out)
}

func serve(port string) error {
	lis, err := net.Listen("tcp", "127.0.0.1:"+port)
	if err != nil {
		return err
	}
	srv := grpc.NewServer()
	srv.RegisterService(&grpc.ServiceDesc{
		ServiceName: service,
		HandlerType: (*interface{})(nil),
		Methods:     []grpc.MethodDesc{{MethodName: "Unary", Handler: unary}},
		Streams: []grpc.StreamDesc{
			{StreamName: "ServerStream", Handler: serverStream, ServerStreams: true},
			{StreamName: "ClientStream", Handler: clientStream, ClientStreams: true},
		},
	}, struct{}{})
	srv.RegisterService(&grpc.ServiceDesc{
		ServiceName: "grpc.health.v1.Health",
		HandlerType: (*interface{})(nil),
		Methods:     []grpc.MethodDesc{{MethodName: "Check", Handler: health}},
	}, struct{}{})
	return srv.Serve(lis)
}

type result struct {
	Path    string  `json:"path"`
	Code    int     `json:"code"`
	Seconds float64 `json:"seconds"`
}

// one call on conn: METHOD:DELAY:CODE[:N][@TIMEOUT]
func call(conn *grpc.ClientConn, spec string) (result, error) {
	ctx, cancel := context.Background(), context.CancelFunc(func() {})
	if i := strings.IndexByte(spec, '@'); i >= 0 {
		t, err := strconv.ParseFloat(spec[i+1:], 64)
		if err != nil {
			return result{}, fmt.Errorf("bad timeout in %q", spec)
		}
		ctx, cancel = context.WithTimeout(ctx, time.Duration(t*float64(time.Second)))
		spec = spec[:i]
	}
	defer cancel()
	f := strings.Split(spec, ":")
	if len(f) < 3 || paths[f[0]] == "" {
		return result{}, fmt.Errorf("bad call %q", spec)
	}
	n := "1"
	if len(f) > 3 {
		n = f[3]
	}
	req := []byte(f[1] + " " + f[2] + " " + n)
	path := paths[f[0]]
	t0 := time.Now()
	err := invoke(ctx, conn, f[0], path, req, n)
	return result{path, int(status.Code(err)), time.Since(t0).Seconds()}, nil
}

func invoke(ctx context.Context, conn *grpc.ClientConn, kind, path string, req []byte,
	n string) error {
	var resp []byte
	switch kind {
	case "unary", "health":
		return conn.Invoke(ctx, path, &req, &resp)
	case "sstream":
		s, err := conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true}, path)
		if err != nil {
			return err
		}
		if err := s.SendMsg(&req); err != nil {
			return err
		}
		if err := s.CloseSend(); err != nil {
			return err
		}
		for {
			if err := s.RecvMsg(&resp); err != nil {
				if err == io.EOF {
					return nil
				}
				return err
			}
		}
	default: // cstream
		s, err := conn.NewStream(ctx, &grpc.StreamDesc{ClientStreams: true}, path)
		if err != nil {
			return err
		}
		count, _ := strconv.Atoi(n)
		for i := 0; i < count; i++ {
			if err := s.SendMsg(&req); err != nil {
				return err
			}
		}
		if err := s.CloseSend(); err != nil {
			return err
		}
		return s.RecvMsg(&resp)
	}
}

func client(port string, specs []string, hold float64) error {
	conn, err := grpc.Dial("127.0.0.1:"+port, grpc.WithInsecure())
	if err != nil {
		return err
	}
	defer conn.Close()
	if hold >= 0 {
		if _, err := call(conn, "unary:0:0"); err != nil {
			return err
		}
		fmt.Println("ready")
		time.Sleep(time.Duration(hold * float64(time.Second)))
	}
	enc := json.NewEncoder(os.Stdout)
	for _, s := range specs {
		r, err := call(conn, s)
		if err != nil {
			return err
		}
		if err := enc.Encode(r); err != nil {
			return err
		}
	}
	return nil
}

func main() {
	encoding.RegisterCodec(rawCodec{})
	var err error
	switch {
	case len(os.Args) >= 3 && os.Args[1] == "server":
		err = serve(os.Args[2])
	case len(os.Args) >= 3 && os.Args[1] == "client":
		err = client(os.Args[2], os.Args[3:], -1)
	case len(os.Args) >= 4 && os.Args[1] == "hold":
		var hold float64
		if hold, err = strconv.ParseFloat(os.Args[3], 64); err == nil {
			err = client(os.Args[2], os.Args[4:], hold)
		}
	default:
		err = fmt.Errorf("usage: peer server PORT | client PORT CALL... | hold PORT SECONDS CALL...")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "grpc-go peer:", err)
		os.Exit(1)
	}
}
