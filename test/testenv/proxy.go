package testenv

import (
	"net"
	"sync"
	"testing"
	"time"
)

// Proxy forwards TCP connections from a free loopback port to a target
// service, and plays the ways a link to it fails:
//   - SetDown: an outage. Every connection is reset and new ones are
//     refused until SetDown(false), so the service looks unreachable.
//   - SetTarget: a failover. Open connections drop and new ones reach
//     another server at the same address.
//   - Cut: a partition. Nothing is forwarded and nothing is closed, so both
//     ends wait for answers that do not come; the bytes sent meanwhile are
//     held until Heal.
//   - Kill: every connection closed, as CLIENT KILL or a restart does.
type Proxy struct {
	Addr string
	ln   net.Listener

	mu     sync.Mutex
	target string
	down   bool
	cut    bool
	heal   chan struct{} // closed by Heal
	conns  map[net.Conn]struct{}
	out    map[net.Conn]struct{} // the connections to the target
}

// StartProxy starts a proxy to target and stops it when the test ends.
func StartProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("proxy: listen: %v", err)
	}
	p := &Proxy{
		Addr: ln.Addr().String(), ln: ln, target: target, heal: make(chan struct{}),
		conns: map[net.Conn]struct{}{}, out: map[net.Conn]struct{}{},
	}
	go p.accept()
	t.Cleanup(func() {
		_ = ln.Close()
		p.Heal()
		p.Kill()
	})
	return p
}

func (p *Proxy) accept() {
	for {
		in, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		down, target := p.down, p.target
		p.mu.Unlock()
		if down {
			_ = in.Close()
			continue
		}
		go p.connect(in, target)
	}
}

func (p *Proxy) connect(in net.Conn, target string) {
	out, err := net.DialTimeout("tcp", target, 5*time.Second)
	if err != nil {
		_ = in.Close()
		return
	}
	p.mu.Lock()
	p.conns[in], p.conns[out], p.out[out] = struct{}{}, struct{}{}, struct{}{}
	p.mu.Unlock()
	go p.pipe(in, out)
	go p.pipe(out, in)
}

// pipe copies from src to dst, holding what it read while the proxy is cut.
func (p *Proxy) pipe(src, dst net.Conn) {
	defer func() {
		_ = src.Close()
		_ = dst.Close()
	}()
	buf := make([]byte, 32*1024)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.waitHealed()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return // EOF or a closed connection: close both ends
		}
	}
}

func (p *Proxy) waitHealed() {
	p.mu.Lock()
	cut, heal := p.cut, p.heal
	p.mu.Unlock()
	if cut {
		<-heal
	}
}

// SetDown starts (true) or ends (false) an outage.
func (p *Proxy) SetDown(down bool) {
	p.mu.Lock()
	p.down = down
	p.mu.Unlock()
	if down {
		p.Kill()
	}
}

// SetTarget sends new connections to target and drops the open ones.
func (p *Proxy) SetTarget(target string) {
	p.mu.Lock()
	p.target = target
	p.mu.Unlock()
	p.Kill()
}

// Cut stops forwarding, closing nothing.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.cut {
		p.cut = true
		p.heal = make(chan struct{})
	}
}

// Heal forwards again, the held bytes first.
func (p *Proxy) Heal() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cut {
		p.cut = false
		close(p.heal)
	}
}

// Kill closes every connection through the proxy.
func (p *Proxy) Kill() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		_ = c.Close()
		delete(p.conns, c)
		delete(p.out, c)
	}
}

// Outbound lists the local addresses of the proxy's live connections to
// the target (how the target sees them: CLIENT KILL ADDR).
func (p *Proxy) Outbound() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var addrs []string
	for c := range p.out {
		addrs = append(addrs, c.LocalAddr().String())
	}
	return addrs
}
