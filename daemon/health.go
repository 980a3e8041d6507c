package daemon

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// serveHealth answers GET /healthz on addr ([daemon] health; empty = no
// listener at all): 200 "ok" while the daemon is ready and its inspection
// loop makes progress, 503 with the reason otherwise. It is the same check
// that gates the systemd watchdog ping, for load balancers and monitors
// that cannot read MQTT. The returned stop function closes the listener.
func (d *Daemon) serveHealth(addr string) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("[daemon] health %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if !d.Ready() {
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		if err := d.health(time.Now()); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			d.log.Error("health endpoint stopped", "addr", addr, "err", err)
		}
	}()
	d.log.Info("health endpoint", "url", "http://"+ln.Addr().String()+"/healthz")
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}, nil
}
