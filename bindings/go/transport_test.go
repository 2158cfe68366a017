package cairn_test

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	cairn "cairn.dev/cairn"
)

// fakeREP is an SP REP peer on loopback that answers every request with
// reply(payload) (nil: no answer), for the cases cairnd never produces.
func fakeREP(t *testing.T, header []byte, reply func([]byte) []byte) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go func(conn net.Conn) {
				defer conn.Close()
				if header == nil {
					io.Copy(io.Discard, conn) // silent
					return
				}
				conn.Write(header)
				var h [8]byte
				if _, err := io.ReadFull(conn, h[:]); err != nil {
					return
				}
				for {
					if _, err := io.ReadFull(conn, h[:]); err != nil {
						return
					}
					msg := make([]byte, binary.BigEndian.Uint64(h[:]))
					if _, err := io.ReadFull(conn, msg); err != nil {
						return
					}
					out := reply(msg[4:])
					if out == nil {
						continue
					}
					frame := binary.BigEndian.AppendUint64(nil, uint64(4+len(out)))
					frame = append(append(frame, msg[:4]...), out...)
					conn.Write(frame)
				}
			}(conn)
		}
	}()
	return "tcp://" + l.Addr().String()
}

var repHeader = []byte{0, 'S', 'P', 0, 0, 0x31, 0, 0}

func TestUndecodableReply(t *testing.T) {
	url := fakeREP(t, repHeader, func([]byte) []byte { return []byte{0xff, 0xff, 0xff} })
	c := dial(t, url, &cairn.Options{Timeout: 3 * time.Second})
	start := time.Now()
	_, err := c.Ping(bg)
	if !errors.Is(err, cairn.ErrInternal) || !strings.Contains(err.Error(), "malformed reply") || time.Since(start) > time.Second {
		t.Fatal(err)
	}
	url = fakeREP(t, repHeader, func([]byte) []byte { return []byte{0x1a, 0x03, 0x0a, 0x05, 0x01} })
	c = dial(t, url, &cairn.Options{Timeout: 3 * time.Second})
	if _, err := c.Ping(bg); !errors.Is(err, cairn.ErrInternal) || !strings.Contains(err.Error(), "malformed Ping reply") {
		t.Fatal(err)
	}
}

func TestNoReplyTimesOut(t *testing.T) {
	url := fakeREP(t, repHeader, func([]byte) []byte { return nil })
	c := dial(t, url, &cairn.Options{Timeout: 400 * time.Millisecond})
	start := time.Now()
	if _, err := c.Ping(bg); !errors.Is(err, cairn.ErrDeadlineExceeded) || time.Since(start) > 1500*time.Millisecond {
		t.Fatal(err, time.Since(start))
	}
}

func TestPeersThatAreNotCairn(t *testing.T) {
	for name, header := range map[string][]byte{
		"silent":    nil,
		"http":      []byte("HTTP/1.1 400 Bad Request\r\n\r\n"),
		"not a REP": {0, 'S', 'P', 0, 0, 0x20, 0, 0},
	} {
		url := fakeREP(t, header, func([]byte) []byte { return nil })
		start := time.Now()
		_, err := cairn.Dial(bg, url, &cairn.Options{Timeout: 700 * time.Millisecond})
		if !errors.Is(err, cairn.ErrUnavailable) || time.Since(start) > 2*time.Second {
			t.Errorf("%s: %v after %v", name, err, time.Since(start))
		}
	}
}
