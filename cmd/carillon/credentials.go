package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/server"
	"github.com/carillonhq/carillon/sqlite"
)

// credentialsUsage is the help of `carillon credentials`.
const credentialsUsage = `Usage: carillon credentials COMMAND [flags]

Per-user keys: a key that may act only as one AppInstanceUser or
AppInstanceBot. The commands work on the server's data directory
(--data-dir, default ./carillon-data), or on its PostgreSQL database
(--database URL), while the server runs or not.

Commands:
  create   --user ARN [--expires 12h]   issue a key; print it as credential_process JSON
  process  --user ARN [--expires 1h]    for the AWS CLI's credential_process: reuse a valid key, or issue one
  list     [--user ARN]                 list the keys: id, bearer, expiry (never the secret)
  delete   --id ACCESS_KEY_ID           revoke a key

Run "carillon credentials COMMAND -h" for a command's flags.
`

// credentials manages per-user keys directly in the server's database (the
// PostgreSQL one of --database, or the SQLite one of --data-dir); POST
// /carillon/credentials does the same over HTTP. Each
// command has a flag set of its own, so that its help lists only its
// flags.
func credentials(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, credentialsUsage)
		return flag.ErrHelp
	}
	cmd, ok := credentialCommands[args[0]]
	if !ok {
		switch args[0] {
		case "help", "-h", "--help":
			fmt.Fprint(stdout, credentialsUsage)
			return nil
		}
		fmt.Fprint(stderr, credentialsUsage)
		return fmt.Errorf("unknown credentials command %q", args[0])
	}
	flags := newFlagSet("credentials "+args[0], stderr)
	flags.Usage = func() {
		fmt.Fprintf(flags.Output(), "Usage: carillon credentials %s %s\n\n%s\nFlags:\n", args[0], cmd.synopsis, cmd.doc)
		flags.PrintDefaults()
	}
	dataDir := flags.string("data-dir", server.DefaultDataDir, "the server's data directory, whose SQLite database is used without --database")
	database := flags.string("database", "", "the server's PostgreSQL database URL (default: SQLite in --data-dir)")
	run, err := cmd.flags(flags)
	if err != nil {
		return err
	}
	if err := flags.Parse(args[1:]); err != nil {
		return err
	}
	if flags.NArg() > 0 {
		flags.Usage()
		return fmt.Errorf("credentials %s: unexpected argument %q", args[0], flags.Arg(0))
	}
	var store carillon.Store
	if *database != "" {
		store, err = server.OpenStore(ctx, *database, "", carillon.SystemClock{})
	} else {
		store, err = openDataDir(ctx, *dataDir)
	}
	if err != nil {
		return err
	}
	defer store.Close()
	return run(ctx, store, stdout)
}

// credentialCommand is a subcommand of `carillon credentials`: flags
// declares its flags and returns what runs once they are parsed.
type credentialCommand struct {
	synopsis, doc string
	flags         func(f flagSet) (func(ctx context.Context, store carillon.Store, stdout io.Writer) error, error)
}

var credentialCommands = map[string]credentialCommand{
	"create": {
		synopsis: "--user ARN [--expires 12h] [--data-dir DIR | --database URL]",
		doc: `Issues a key that may act only as the AppInstanceUser or AppInstanceBot
ARN, and prints it as JSON in the AWS CLI's credential_process format.
A key with --expires comes with a session token, like AWS temporary
credentials.
`,
		flags: func(f flagSet) (func(context.Context, carillon.Store, io.Writer) error, error) {
			user := f.String("user", "", "the AppInstanceUser or AppInstanceBot ARN the key acts as (required)")
			expires, err := f.duration("expires", 0, "lifetime of the key, e.g. 12h (default: no expiry)")
			if err != nil {
				return nil, err
			}
			return func(ctx context.Context, store carillon.Store, stdout io.Writer) error {
				if *user == "" {
					return errors.New("credentials create: --user is required")
				}
				out, err := server.CreateUserCredentials(ctx, store, *user, *expires)
				if err != nil {
					return err
				}
				return printJSON(stdout, out)
			}, nil
		},
	},
	"process": {
		synopsis: "--user ARN [--expires 1h] [--data-dir DIR | --database URL]",
		doc: `Prints an expiring key of ARN in the credential_process format, for the
AWS CLI and SDKs, which run the command before every call: it reuses a
key it issued that still has at least half of --expires to live, and
issues a new one only when there is none. Use absolute paths:

  aws configure set credential_process \
    "/path/to/carillon credentials process --data-dir /path/to/carillon-data --user ARN" \
    --profile alice
`,
		flags: func(f flagSet) (func(context.Context, carillon.Store, io.Writer) error, error) {
			user := f.String("user", "", "the AppInstanceUser or AppInstanceBot ARN the key acts as (required)")
			expires, err := f.duration("expires", time.Hour, fmt.Sprintf("lifetime of a key, at least %v", server.MinProcessLifetime))
			if err != nil {
				return nil, err
			}
			return func(ctx context.Context, store carillon.Store, stdout io.Writer) error {
				if *user == "" {
					return errors.New("credentials process: --user is required")
				}
				out, _, err := server.ProcessCredentials(ctx, store, *user, *expires)
				if err != nil {
					return err
				}
				return printJSON(stdout, out)
			}, nil
		},
	},
	"list": {
		synopsis: "[--user ARN] [--data-dir DIR | --database URL]",
		doc: `Lists the per-user keys, of one bearer or of all: access key id, bearer
and expiry. Secrets are never printed.
`,
		flags: func(f flagSet) (func(context.Context, carillon.Store, io.Writer) error, error) {
			user := f.String("user", "", "list only the keys acting as this ARN")
			return func(ctx context.Context, store carillon.Store, stdout io.Writer) error {
				keys, err := server.ListUserCredentials(ctx, store, *user)
				if err != nil {
					return err
				}
				return printKeys(stdout, keys, time.Now())
			}, nil
		},
	},
	"delete": {
		synopsis: "--id ACCESS_KEY_ID [--data-dir DIR | --database URL]",
		doc:      "Revokes a per-user key: requests it signs are refused from then on.\n",
		flags: func(f flagSet) (func(context.Context, carillon.Store, io.Writer) error, error) {
			id := f.String("id", "", "the access key id to delete (required)")
			return func(ctx context.Context, store carillon.Store, _ io.Writer) error {
				if *id == "" {
					return errors.New("credentials delete: --id is required")
				}
				err := store.Update(ctx, func(tx carillon.Tx) error { return tx.DeleteAccessKey(*id) })
				if errors.Is(err, carillon.ErrNotFound) {
					return fmt.Errorf("access key %s does not exist", *id)
				}
				return err
			}, nil
		},
	},
}

// openDataDir opens the database of an existing data directory. Unlike
// the server, it never creates one: a command run from another directory
// would otherwise issue keys into a new, empty database the server never
// reads.
func openDataDir(ctx context.Context, dir string) (*sqlite.DB, error) {
	path := filepath.Join(dir, "carillon.db")
	if _, err := os.Stat(path); err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		abs, aerr := filepath.Abs(path)
		if aerr != nil {
			abs = path
		}
		return nil, fmt.Errorf("%s is not a Carillon data directory: %s does not exist. "+
			"Pass the directory the server runs with: --data-dir DIR (or $CARILLON_DATA_DIR)", dir, abs)
	}
	return sqlite.Open(ctx, path, carillon.SystemClock{})
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// printKeys prints keys as a table; expired keys say so.
func printKeys(w io.Writer, keys []carillon.AccessKey, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ACCESS KEY ID\tBEARER\tEXPIRES")
	for _, k := range keys {
		exp := "never"
		if !k.Expires.IsZero() {
			exp = k.Expires.UTC().Format(time.RFC3339)
			if !k.Expires.After(now) {
				exp += " (expired)"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", k.ID, k.Bearer, exp)
	}
	return tw.Flush()
}
