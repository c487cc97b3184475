package main

import (
	"encoding/json"
	"fmt"
	"net"
	"path/filepath"
	"time"

	"github.com/cairnkv/cairn/internal/clustertls"
	"github.com/spf13/cobra"
)

// newTLSCommand makes the credentials of a demo or test cluster's mutual
// TLS: a CA, then a certificate per node. Production operators may bring
// their own (see the README for what cairn checks).
func newTLSCommand(a *app) *cobra.Command {
	var (
		dir, caName, name string
		caValidity        time.Duration
		validity          time.Duration
		ips               []net.IP
		dns               []string
	)
	initCmd := &cobra.Command{
		Use:   "init",
		Short: "Create a cluster CA (ca.pem, ca-key.pem) in --dir",
		Long: "Create a cluster certificate authority: a P-256 key (ca-key.pem, mode 0600) and a\n" +
			"self-signed certificate (ca.pem) in --dir. Nodes trust ca.pem; keep ca-key.pem\n" +
			"where only whoever issues node certificates can read it. Existing files are never\n" +
			"overwritten.",
		Example: "  cairnctl tls init --dir ./tls",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ca, err := clustertls.NewCA(caName, caValidity, time.Now())
			if err != nil {
				return err
			}
			if err := ca.WriteFiles(dir); err != nil {
				return err
			}
			files := map[string]string{"ca": filepath.Join(dir, clustertls.CACertFile), "ca_key": filepath.Join(dir, clustertls.CAKeyFile)}
			if a.jsonOutput() {
				return printFiles(a, files)
			}
			_, err = fmt.Fprintf(a.stdout, "wrote %s and %s (valid until %s)\nissue a certificate per node: cairnctl tls issue --dir %s --name NODE\n",
				files["ca"], files["ca_key"], ca.Cert.NotAfter.UTC().Format(time.DateOnly), dir)
			return err
		},
	}
	issueCmd := &cobra.Command{
		Use:   "issue",
		Short: "Issue a node certificate (NAME.pem, NAME-key.pem) signed by the CA in --dir",
		Long: "Issue a node certificate signed by the CA in --dir: a P-256 key (NAME-key.pem, mode\n" +
			"0600) and a certificate (NAME.pem) for both accepting and making cluster\n" +
			"connections, with the URI SAN cairn://node/NAME that nodes require of each other.\n" +
			"Host names and addresses are not checked by cairn; --ip and --dns add SANs for\n" +
			"other tools.",
		Example: "  cairnctl tls issue --dir ./tls --name n1\n" +
			"  cairnctl tls issue --dir ./tls --name n2 --ip 10.0.0.2 --dns n2.cairn.internal",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if name == "" {
				return fmt.Errorf("--name is required: the node's name, such as n1")
			}
			ca, err := clustertls.LoadCA(dir)
			if err != nil {
				return err
			}
			nc, err := ca.Issue(clustertls.NodeRequest{Name: name, DNS: dns, IPs: ips, Validity: validity}, time.Now())
			if err != nil {
				return err
			}
			if err := nc.WriteFiles(dir); err != nil {
				return err
			}
			p := clustertls.Paths(dir, name)
			files := map[string]string{"ca": p.CA, "cert": p.Cert, "key": p.Key}
			if a.jsonOutput() {
				return printFiles(a, files)
			}
			_, err = fmt.Fprintf(a.stdout, "wrote %s and %s\nstart the node with:\n  --cluster-tls-ca %s --cluster-tls-cert %s --cluster-tls-key %s\n",
				p.Cert, p.Key, p.CA, p.Cert, p.Key)
			return err
		},
	}
	for _, c := range []*cobra.Command{initCmd, issueCmd} {
		c.Flags().StringVar(&dir, "dir", ".", "directory of the CA and node files")
	}
	initCmd.Flags().StringVar(&caName, "ca-name", "cairn cluster CA", "common name of the CA certificate")
	initCmd.Flags().DurationVar(&caValidity, "validity", clustertls.DefaultCAValidity, "how long the CA certificate is valid")
	issueCmd.Flags().StringVar(&name, "name", "", "node name: file names, common name and cairn://node/NAME URI SAN (required)")
	issueCmd.Flags().DurationVar(&validity, "validity", clustertls.DefaultNodeValidity, "how long the node certificate is valid (at most until the CA expires)")
	issueCmd.Flags().IPSliceVar(&ips, "ip", nil, "IP address SAN (repeatable or comma-separated)")
	issueCmd.Flags().StringSliceVar(&dns, "dns", nil, "DNS name SAN (repeatable or comma-separated)")
	return group("tls", "Create a CA and node certificates for cluster mutual TLS (demo and test clusters)",
		"  cairnctl tls init --dir ./tls\n  cairnctl tls issue --dir ./tls --name n1",
		initCmd, issueCmd)
}

func printFiles(a *app, files map[string]string) error {
	raw, err := json.Marshal(files)
	if err != nil {
		return err
	}
	return printJSON(a.stdout, raw)
}
