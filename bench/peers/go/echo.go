// Go echo server for the bench suite: lines or 4-byte length frames, a goroutine per connection, bufio both ways.
//
// Usage: echo <lines|length> <cut|new|string>
// Prints `listening <port>` once bound to 127.0.0.1 (port 0), then runs until stdin closes or SIGTERM.
// GOMAXPROCS comes from the environment (the runner sets it).
package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"
)

// Largest length-frame payload accepted.
const maxFrame = 64 << 10

// Read and write buffers; a line (`\n` included) must fit in the read buffer.
const bufferSize = 64 << 10

var errTooLong = errors.New("frame too long")

type reply int

const (
	replyCut reply = iota
	replyNew
	replyString
)

func main() {
	if len(os.Args) != 3 || (os.Args[1] != "lines" && os.Args[1] != "length") {
		usage()
	}
	var style reply
	switch os.Args[2] {
	case "cut":
		style = replyCut
	case "new":
		style = replyNew
	case "string":
		style = replyString
	default:
		usage()
	}
	lines := os.Args[1] == "lines"
	// A length frame has no text to decode: `string` answers with a new slice, as `new` does.
	if !lines && style == replyString {
		style = replyNew
	}

	terms := make(chan os.Signal, 1)
	signal.Notify(terms, syscall.SIGTERM)
	go func() {
		<-terms
		os.Exit(0)
	}()
	go func() {
		// The runner never writes; EOF (or a broken stdin) means stop.
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()

	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("listening %d\n", listener.Addr().(*net.TCPAddr).Port)
	_ = os.Stdout.Sync()

	for {
		conn, err := listener.Accept()
		if err != nil {
			var netErr net.Error
			if errors.As(err, &netErr) && netErr.Timeout() {
				continue
			}
			// Out of file descriptors and the like: this accept fails, the server goes on.
			fmt.Fprintln(os.Stderr, "accept:", err)
			continue
		}
		go serve(conn, lines, style)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: echo <lines|length> <cut|new|string>")
	os.Exit(2)
}

// serve echoes one connection until it ends or fails; an error closes this connection only.
func serve(conn net.Conn, lines bool, style reply) {
	defer conn.Close()
	r := bufio.NewReaderSize(conn, bufferSize)
	w := bufio.NewWriterSize(conn, bufferSize)
	if lines {
		_ = echoLines(r, w, style)
	} else {
		_ = echoFrames(r, w, style)
	}
}

func echoLines(r *bufio.Reader, w *bufio.Writer, style reply) error {
	for {
		line, err := r.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			return errTooLong
		}
		if err != nil {
			return err
		}
		switch style {
		case replyCut:
			_, err = w.Write(line)
		case replyNew:
			fresh := make([]byte, len(line))
			copy(fresh, line)
			_, err = w.Write(fresh)
		case replyString:
			text := string(line[:len(line)-1])
			_, err = w.WriteString(text + "\n")
		}
		if err != nil {
			return err
		}
		// Flush before a read that would block: nothing buffered, or only part of a line.
		if n := r.Buffered(); n == 0 || !hasLine(r, n) {
			if err = w.Flush(); err != nil {
				return err
			}
		}
	}
}

func hasLine(r *bufio.Reader, buffered int) bool {
	rest, _ := r.Peek(buffered)
	return bytes.IndexByte(rest, '\n') >= 0
}

func echoFrames(r *bufio.Reader, w *bufio.Writer, style reply) error {
	// For the few frames larger than the read buffer (header + payload > 64 KiB).
	var large []byte
	for {
		header, err := r.Peek(4)
		if err != nil {
			return err
		}
		size := 4 + int(binary.BigEndian.Uint32(header))
		if size-4 > maxFrame {
			return errTooLong
		}
		var frame []byte
		inBuffer := size <= r.Size()
		if inBuffer {
			if frame, err = r.Peek(size); err != nil {
				return err
			}
		} else {
			if large == nil {
				large = make([]byte, 4+maxFrame)
			}
			frame = large[:size]
			if _, err = io.ReadFull(r, frame); err != nil {
				return err
			}
		}
		if style == replyCut {
			_, err = w.Write(frame)
		} else {
			fresh := make([]byte, len(frame))
			copy(fresh, frame)
			_, err = w.Write(fresh)
		}
		if err != nil {
			return err
		}
		if inBuffer {
			_, _ = r.Discard(size)
		}
		// Flush before a read that would block: nothing buffered, or only part of a frame.
		if n := r.Buffered(); n == 0 || !hasFrame(r, n) {
			if err = w.Flush(); err != nil {
				return err
			}
		}
	}
}

func hasFrame(r *bufio.Reader, buffered int) bool {
	if buffered < 4 {
		return false
	}
	header, _ := r.Peek(4)
	return buffered >= 4+int(binary.BigEndian.Uint32(header))
}
