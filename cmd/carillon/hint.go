package main

import (
	"fmt"
	"io"

	"github.com/carillonhq/carillon/server"
)

// printRootHint prints, on the first start, the generated root
// credentials as the commands that make them the AWS CLI profile
// "carillon": key, region and endpoint, so that the commands of the
// README's quickstart need no --endpoint-url. The README shows this
// output, and its test compares the two. The AWS SDKs read the same
// profile. It points at the console, when one is served, and then names
// the certificate HTTPS clients must trust. where says where the
// credentials are stored: a file, or "the database".
func printRootHint(w io.Writer, root server.RootCredentials, srv *server.Server, where string) {
	endpoint := "https://" + srv.TLSAddr()
	if srv.Addr() != "" {
		endpoint = "http://" + srv.Addr()
	}
	fmt.Fprintf(w, `Carillon generated root credentials and stored them in %s.
They are printed this once. To use them with the AWS CLI and the AWS SDKs, as the profile "carillon":

  aws configure set aws_access_key_id %s --profile carillon
  aws configure set aws_secret_access_key %s --profile carillon
  aws configure set region %s --profile carillon
  aws configure set endpoint_url %s --profile carillon
  export AWS_PROFILE=carillon
  aws chime-sdk-identity list-app-instances

`, where, root.AccessKeyID, root.SecretAccessKey, srv.Region(), endpoint)
	if u := srv.ConsoleURL(); u != "" {
		fmt.Fprintf(w, "Or open the console at %s and sign in with this key.\n\n", u)
	}
	if cert := srv.CertificateFile(); cert != "" {
		fmt.Fprintf(w, `Clients of https://%s, amazon-chime-sdk-js's messaging sessions among them,
must trust its certificate, %s. In Node:

  export NODE_EXTRA_CA_CERTS=%s

`, srv.TLSAddr(), cert, cert)
	}
}
