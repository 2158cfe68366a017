// Package cairn is a client and a worker for the Cairn job-queue server.
//
// It speaks Cairn's wire protocol directly: protobuf messages generated
// from proto/cairn.proto (package cairnpb), in the envelopes of
// cairn.v1.Request and cairn.v1.Response, over an SP REQ socket of mangos
// (go.nanomsg.org/mangos/v3), which interoperates with cairnd's nng REP
// socket over tcp://, tls+tcp:// and ipc://.
//
// Every call takes a context.Context; its deadline, when earlier than the
// client's timeout, bounds the call, and cancelling it abandons the call.
// Every error is a *Error carrying the status (compare with errors.Is and
// the Err values, or CodeOf).
package cairn

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"sync"
	"time"

	"go.nanomsg.org/mangos/v3"
	"go.nanomsg.org/mangos/v3/protocol/req"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"cairn.dev/cairn/cairnpb"

	// The transports of cairnd's listeners.
	_ "go.nanomsg.org/mangos/v3/transport/ipc"
	_ "go.nanomsg.org/mangos/v3/transport/tcp"
	_ "go.nanomsg.org/mangos/v3/transport/tlstcp"
)

// DefaultURL is where cairnd listens unless told otherwise.
const DefaultURL = "tcp://127.0.0.1:7420"

// How much later than a call's own limit mangos's resend timer may fire: it
// must never fire while the call still waits (a long-poll would be parked
// twice on the server). After a broken connection mangos resends at once,
// on the next one, with the same request id, as nng does.
const resendMargin = 5 * time.Second

// The rpcs that change nothing. Every other one carries a request id, so
// that the server can tell a resent copy from a new request: an rpc added
// to the proto later is treated as mutating until it is listed here.
var readOnly = map[string]bool{
	"Get": true, "List": true, "Stats": true, "Await": true,
	"History": true, "Ping": true, "GetWorkflow": true,
	"ListWorkflows": true, "WorkflowHistory": true, "AwaitWorkflow": true,
	"GetQueue": true, "ListQueues": true,
}

var service = cairnpb.File_cairn_proto.Services().ByName("Queue")

// Options tune a Client; the zero value is a plain one.
type Options struct {
	// Token is sent with every request (cairnd --token-file).
	Token string
	// Timeout bounds each call (default 10 s); a long-poll adds its wait.
	Timeout time.Duration
	// TLS is the configuration of tls+tcp:// connections: RootCAs that
	// signed the server's certificate, Certificates for servers that
	// require one; ServerName defaults to the URL's host.
	TLS *tls.Config
	// MaxReplyBytes: a longer reply closes the connection (default 64 MiB).
	MaxReplyBytes int
}

// Client is safe for concurrent use: every call has a mangos context of
// its own, so many calls are in flight on one connection at once.
type Client struct {
	url     string
	token   string
	timeout time.Duration
	sock    mangos.Socket

	mu   sync.Mutex
	free []mangos.Context
}

// Dial connects to cairnd at rawURL (tcp://HOST:PORT, tls+tcp://HOST:PORT
// or ipc:///PATH) and returns a client that reconnects by itself whenever
// the connection breaks. The first connection must be made within ctx and
// the timeout; if it cannot, Dial returns an UNAVAILABLE *Error saying why.
func Dial(ctx context.Context, rawURL string, opts *Options) (*Client, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.MaxReplyBytes <= 0 {
		o.MaxReplyBytes = 64 << 20
	}
	if err := checkURL(rawURL, o.TLS != nil); err != nil {
		return nil, err
	}
	sock, err := req.NewSocket()
	if err != nil {
		return nil, errorf(Internal, "", "cannot make a REQ socket: %v", err)
	}
	dopts := map[string]any{
		mangos.OptionMaxRecvSize:      o.MaxReplyBytes,
		mangos.OptionReconnectTime:    100 * time.Millisecond,
		mangos.OptionMaxReconnectTime: 2 * time.Second,
	}
	if o.TLS != nil {
		dopts[mangos.OptionTLSConfig] = o.TLS
	}
	dctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- sock.DialOptions(rawURL, dopts) }()
	select {
	case err = <-done:
	case <-dctx.Done():
		err = fmt.Errorf("no connection within %v", o.Timeout)
		if ctx.Err() != nil {
			err = ctx.Err()
		}
	}
	if err != nil {
		sock.Close()
		hint := ""
		if o.TLS != nil && errors.Is(err, io.EOF) {
			hint = " (the server ended the TLS handshake: does it require a client certificate?)"
		}
		return nil, errorf(Unavailable, "", "cannot connect to %s: %v%s", rawURL, err, hint)
	}
	return &Client{url: rawURL, token: o.Token, timeout: o.Timeout, sock: sock}, nil
}

// checkURL refuses, with the reason, an address cairnd cannot have.
func checkURL(raw string, withTLS bool) error {
	bad := func(why string) error {
		return errorf(InvalidArgument, "", "bad server URL %q: %s (want "+
			"tcp://HOST:PORT, tls+tcp://HOST:PORT or ipc:///PATH)", raw, why)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return bad(err.Error())
	}
	switch u.Scheme {
	case "ipc":
		if withTLS {
			return bad("TLS options are for tls+tcp://")
		}
		if strings.TrimPrefix(raw, "ipc://") == "" {
			return bad("no path")
		}
		return nil
	case "tcp", "tls+tcp":
	default:
		return bad("unknown scheme " + u.Scheme + "://")
	}
	if u.Scheme == "tcp" && withTLS {
		return bad("TLS options given: use tls+tcp://")
	}
	if u.Port() == "" || u.Hostname() == "" || (u.Path != "" && u.Path != "/") ||
		u.RawQuery != "" || u.User != nil {
		return bad("not HOST:PORT")
	}
	return nil
}

// URL returns the server's address.
func (c *Client) URL() string { return c.url }

// Close ends the calls still waiting and closes the connection.
func (c *Client) Close() error {
	return c.sock.Close()
}

func (c *Client) getCtx() (mangos.Context, error) {
	c.mu.Lock()
	if n := len(c.free); n > 0 {
		mc := c.free[n-1]
		c.free = c.free[:n-1]
		c.mu.Unlock()
		return mc, nil
	}
	c.mu.Unlock()
	return c.sock.OpenContext()
}

func (c *Client) putCtx(mc mangos.Context) {
	c.mu.Lock()
	c.free = append(c.free, mc)
	c.mu.Unlock()
}

// requestID is the time in ms (6 bytes) then 10 random bytes, in hex, as
// libcairn makes them: the ids of one moment sit together in the server's
// table of them.
func requestID() string {
	var b [16]byte
	var ms [8]byte
	binary.BigEndian.PutUint64(ms[:], uint64(time.Now().UnixMilli()))
	copy(b[:6], ms[2:])
	_, _ = rand.Read(b[6:])
	return hex.EncodeToString(b[:])
}

// Call makes one rpc of service Queue by name ("Enqueue"): it sends in, in
// an envelope, and decodes the method's response into out, or returns the
// *Error of the reply's status. extraWait is time the server may spend
// waiting on purpose (a long-poll), added to the client's timeout. Every
// rpc in the generated code can be called this way, before it has a typed
// method.
func (c *Client) Call(ctx context.Context, method string, in, out proto.Message, extraWait time.Duration) error {
	md := service.Methods().ByName(protoreflect.Name(method))
	if md == nil {
		return errorf(InvalidArgument, method, "service Queue has no rpc %s", method)
	}
	if in.ProtoReflect().Descriptor() != md.Input() || out.ProtoReflect().Descriptor() != md.Output() {
		return errorf(InvalidArgument, method, "%s takes %s and returns %s", method,
			md.Input().FullName(), md.Output().FullName())
	}
	limit := c.timeout + max(extraWait, 0)
	if d, ok := ctx.Deadline(); ok && time.Until(d) < limit {
		limit = time.Until(d)
	}
	if limit <= 0 {
		return errorf(DeadlineExceeded, method, "the context's deadline has passed")
	}
	body, err := proto.Marshal(in)
	if err != nil {
		return errorf(InvalidArgument, method, "cannot encode the request: %v", err)
	}
	env := &cairnpb.Request{Method: method, Body: body, Token: c.token,
		DeadlineMs: limit.Milliseconds()}
	if !readOnly[method] {
		env.RequestId = requestID()
	}
	wire, err := proto.Marshal(env)
	if err != nil {
		return errorf(Internal, method, "cannot encode the envelope: %v", err)
	}
	reply, err := c.roundTrip(ctx, method, wire, limit)
	if err != nil {
		return err
	}
	var resp cairnpb.Response
	if err := proto.Unmarshal(reply, &resp); err != nil {
		return errorf(Internal, method, "malformed reply from %s: %v", c.url, err)
	}
	if resp.Code != cairnpb.Code_OK {
		return &Error{Code: resp.Code, Message: resp.Message, Method: method}
	}
	if err := proto.Unmarshal(resp.Body, out); err != nil {
		return errorf(Internal, method, "malformed %s reply from %s: %v", method, c.url, err)
	}
	return nil
}

// roundTrip sends wire on a context of its own and waits for the reply,
// within limit, or until ctx is cancelled.
func (c *Client) roundTrip(ctx context.Context, method string, wire []byte, limit time.Duration) ([]byte, error) {
	mc, err := c.getCtx()
	if err != nil {
		return nil, errorf(Cancelled, method, "client for %s is closed", c.url)
	}
	start := time.Now()
	_ = mc.SetOption(mangos.OptionRetryTime, limit+resendMargin)
	_ = mc.SetOption(mangos.OptionSendDeadline, limit)
	// Cancelling ctx closes the mangos context, which ends its wait; a
	// closed context is not used again.
	stop := context.AfterFunc(ctx, func() { mc.Close() })
	err = mc.Send(wire)
	var reply []byte
	if err == nil {
		left := limit - time.Since(start)
		if left <= 0 {
			left = time.Millisecond
		}
		_ = mc.SetOption(mangos.OptionRecvDeadline, left)
		reply, err = mc.Recv()
	}
	if !stop() {
		return nil, errorf(CodeOfContext(ctx.Err()), method, "%v", ctx.Err())
	}
	switch {
	case err == nil:
		c.putCtx(mc)
		return reply, nil
	case errors.Is(err, mangos.ErrSendTimeout):
		c.putCtx(mc)
		return nil, errorf(Unavailable, method, "cannot reach %s within %v (not connected)", c.url, limit)
	case errors.Is(err, mangos.ErrRecvTimeout):
		c.putCtx(mc)
		return nil, errorf(DeadlineExceeded, method, "no reply from %s within %v", c.url, limit)
	case errors.Is(err, mangos.ErrClosed):
		return nil, errorf(Cancelled, method, "client for %s is closed", c.url)
	default:
		mc.Close()
		return nil, errorf(Unavailable, method, "%s: %v", c.url, err)
	}
}

// CodeOfContext maps a context's error to a status: DEADLINE_EXCEEDED or
// CANCELLED.
func CodeOfContext(err error) Code {
	if errors.Is(err, context.DeadlineExceeded) {
		return DeadlineExceeded
	}
	return Cancelled
}
