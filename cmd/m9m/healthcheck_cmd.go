package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/m9m/auth/infra/config"
)

func newHealthcheckCmd(flags *rootFlags) *cobra.Command {
	var path string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "healthcheck",
		Short: "Probe the local server's readiness (for container healthchecks); exit 0 when ready",
		Long: "Sends GET /ready (or --path) to this host's server, on the port and with the TLS of the same\n" +
			"configuration serve reads (file + M9M_* environment), and exits 0 on a 200 answer, 1 otherwise.\n" +
			"With TLS, the server's certificate must be the one in server.tls.cert_file.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := flags.load("server")
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			status, err := probe(ctx, cfg.Server, path)
			if err != nil {
				return fmt.Errorf("healthcheck: %w", err)
			}
			if status != http.StatusOK {
				return fmt.Errorf("healthcheck: %s answered %d", path, status)
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), "ready")
			return err
		},
	}
	cmd.Flags().StringVar(&path, "path", "/ready", "path to probe (/ready: Postgres and Redis reachable; /health: the process answers)")
	cmd.Flags().DurationVar(&timeout, "timeout", 3*time.Second, "give up after this long")
	return cmd
}

// probe sends GET path to the server srv configures, on loopback when it
// listens on every interface, and returns the status.
func probe(ctx context.Context, srv config.ServerConfig, path string) (int, error) {
	host := srv.Host
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
		if ip != nil && ip.To4() == nil {
			host = "::1"
		}
	}
	scheme := "http"
	transport := &http.Transport{Proxy: nil, DisableKeepAlives: true}
	if srv.TLS.Enabled {
		scheme = "https"
		pinned, err := certsIn(srv.TLS.CertFile)
		if err != nil {
			return 0, err
		}
		transport.TLSClientConfig = &tls.Config{
			MinVersion: tls.VersionTLS12,
			// The server is reached by a loopback address its certificate does
			// not name, so the name is not checked; instead the certificate
			// must be exactly the configured one.
			InsecureSkipVerify: true, //nolint:gosec // replaced by the pin below
			VerifyConnection: func(cs tls.ConnectionState) error {
				if len(cs.PeerCertificates) > 0 {
					for _, p := range pinned {
						if bytes.Equal(cs.PeerCertificates[0].Raw, p) {
							return nil
						}
					}
				}
				return errors.New("the server's certificate is not the one in server.tls.cert_file")
			},
		}
	}
	url := scheme + "://" + net.JoinHostPort(host, strconv.Itoa(srv.Port)) + path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := (&http.Client{Transport: transport}).Do(req)
	if err != nil {
		return 0, err
	}
	defer func() { _ = resp.Body.Close() }()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, nil
}

// certsIn returns the DER certificates of a PEM file.
func certsIn(path string) ([][]byte, error) {
	data, err := os.ReadFile(path) //nolint:gosec // the operator chooses the certificate file
	if err != nil {
		return nil, fmt.Errorf("server.tls.cert_file: %w", err)
	}
	var out [][]byte
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type == "CERTIFICATE" {
			out = append(out, b.Bytes)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("server.tls.cert_file holds no certificate")
	}
	return out, nil
}
