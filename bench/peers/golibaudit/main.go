// Bench peer: go-libaudit's auparse + Reassembler + aucoalesce over an audit.log
// file, serialising each event to JSON (as Auditbeat does before shipping).
// Built at bench time by bench/auditd.ts into .cache/bench-peers; never shipped.
// Prints one JSON line: {"lines":N,"events":N,"lost":N,"errors":N,"ms":N}.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"time"

	libaudit "github.com/elastic/go-libaudit/v2"
	"github.com/elastic/go-libaudit/v2/aucoalesce"
	"github.com/elastic/go-libaudit/v2/auparse"
)

type stream struct {
	events, lost, errors int
	bytes                int
}

func (s *stream) ReassemblyComplete(msgs []*auparse.AuditMessage) {
	ev, err := aucoalesce.CoalesceMessages(msgs)
	if err != nil {
		s.errors++
		return
	}
	b, err := json.Marshal(ev)
	if err != nil {
		s.errors++
		return
	}
	s.bytes += len(b)
	s.events++
}

func (s *stream) EventsLost(count int) { s.lost += count }

func main() {
	f, err := os.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	defer f.Close()
	st := &stream{}
	start := time.Now()
	r, err := libaudit.NewReassembler(8192, 2*time.Second, st)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	lines := 0
	for sc.Scan() {
		lines++
		msg, err := auparse.ParseLogLine(sc.Text())
		if err != nil {
			st.errors++
			continue
		}
		r.PushMessage(msg)
	}
	r.Close()
	ms := time.Since(start).Milliseconds()
	fmt.Printf("{\"lines\":%d,\"events\":%d,\"lost\":%d,\"errors\":%d,\"ms\":%d}\n", lines, st.events, st.lost, st.errors, ms)
}
