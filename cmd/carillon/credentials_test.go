package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/server"
	"github.com/carillonhq/carillon/sqlite"
)

const (
	testApp  = "arn:aws:chime:us-east-1:000000000000:app-instance/a"
	testUser = testApp + "/user/u"
)

// dataDirWithUser makes a data directory whose database holds testUser.
func dataDirWithUser(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(dir, "carillon.db"), carillon.SystemClock{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := store.Update(ctx, func(tx carillon.Tx) error {
		if err := tx.CreateAppInstance(&carillon.AppInstance{ARN: testApp, Name: "a"}); err != nil {
			return err
		}
		return tx.CreateUser(&carillon.AppInstanceUser{ARN: testUser, AppInstanceARN: testApp, Name: "u"})
	}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestCredentialsDataDirHint: run where there is no data directory, the
// credentials commands say to pass --data-dir, and create nothing: a
// database made in the wrong directory would hold keys the server never
// reads.
func TestCredentialsDataDirHint(t *testing.T) {
	t.Setenv("CARILLON_DATA_DIR", "")
	os.Unsetenv("CARILLON_DATA_DIR")
	cwd := t.TempDir()
	t.Chdir(cwd)
	empty := t.TempDir() // a directory that exists, without a database
	for _, args := range [][]string{
		{"credentials", "create", "--user", testUser},
		{"credentials", "process", "--user", testUser},
		{"credentials", "list"},
		{"credentials", "delete", "--id", "CKIAXXXXXXXXXXXXXXXX"},
		{"credentials", "list", "--data-dir", filepath.Join(cwd, "elsewhere")},
		{"credentials", "list", "--data-dir", empty},
	} {
		var out, errOut bytes.Buffer
		err := run(context.Background(), args, &out, &errOut)
		if err == nil || !strings.Contains(err.Error(), "--data-dir") || !strings.Contains(err.Error(), "is not a Carillon data directory") {
			t.Errorf("%v: %v; want an error naming --data-dir", args, err)
		}
	}
	entries, err := os.ReadDir(cwd)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("the commands left %v behind in the working directory", entries)
	}
	if _, err := os.Stat(filepath.Join(empty, "carillon.db")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a database was created in an empty directory: %v", err)
	}
}

// TestCredentialsList lists keys with their bearer and expiry, never
// their secrets, filtered by --user.
func TestCredentialsList(t *testing.T) {
	dir := dataDirWithUser(t)
	ctx := context.Background()
	issue := func(args ...string) server.IssuedCredentials {
		t.Helper()
		var out, errOut bytes.Buffer
		if err := run(ctx, append([]string{"credentials", "create", "--data-dir", dir, "--user", testUser}, args...), &out, &errOut); err != nil {
			t.Fatalf("create: %v %s", err, errOut.String())
		}
		var c server.IssuedCredentials
		if err := json.Unmarshal(out.Bytes(), &c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	forever := issue()
	expiring := issue("--expires", "2h")

	var out, errOut bytes.Buffer
	if err := run(ctx, []string{"credentials", "list", "--data-dir", dir}, &out, &errOut); err != nil {
		t.Fatalf("list: %v %s", err, errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 || strings.Join(strings.Fields(lines[0]), " ") != "ACCESS KEY ID BEARER EXPIRES" {
		t.Fatalf("list printed:\n%s", out.String())
	}
	want := map[string]string{
		forever.AccessKeyID:  "never",
		expiring.AccessKeyID: expiring.Expiration.UTC().Format("2006-01-02T15:04:05Z"),
	}
	for _, line := range lines[1:] {
		f := strings.Fields(line)
		if len(f) != 3 || f[1] != testUser || want[f[0]] != f[2] {
			t.Errorf("list line %q; want one of %v, bearer %s", line, want, testUser)
		}
		delete(want, f[0])
	}
	if len(want) != 0 {
		t.Errorf("keys missing from the list: %v\n%s", want, out.String())
	}
	for _, secret := range []string{forever.SecretAccessKey, expiring.SecretAccessKey, expiring.SessionToken} {
		if strings.Contains(out.String(), secret) {
			t.Fatalf("list printed a secret:\n%s", out.String())
		}
	}

	out.Reset()
	if err := run(ctx, []string{"credentials", "list", "--data-dir", dir, "--user", testApp + "/user/other"}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(out.String()); strings.Count(got, "\n") != 0 {
		t.Errorf("the keys of a user without keys:\n%s", got)
	}
}

// TestCredentialsProcessReusesKey: as a credential_process, the command
// prints the same key on every call instead of minting one each time.
func TestCredentialsProcessReusesKey(t *testing.T) {
	dir := dataDirWithUser(t)
	ctx := context.Background()
	var ids []string
	for range 3 {
		var out, errOut bytes.Buffer
		if err := run(ctx, []string{"credentials", "process", "--data-dir", dir, "--user", testUser}, &out, &errOut); err != nil {
			t.Fatalf("process: %v %s", err, errOut.String())
		}
		var c server.IssuedCredentials
		if err := json.Unmarshal(out.Bytes(), &c); err != nil {
			t.Fatal(err)
		}
		if c.Version != 1 || c.SessionToken == "" || c.Expiration == nil {
			t.Fatalf("not credential_process output with an expiry: %s", out.String())
		}
		ids = append(ids, c.AccessKeyID)
	}
	if ids[0] != ids[1] || ids[1] != ids[2] {
		t.Fatalf("three calls gave %v; want one key", ids)
	}
	var out, errOut bytes.Buffer
	if err := run(ctx, []string{"credentials", "list", "--data-dir", dir}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), "CKIA"); n != 1 {
		t.Fatalf("after three calls the data directory holds %d keys:\n%s", n, out.String())
	}
	err := run(ctx, []string{"credentials", "process", "--data-dir", dir, "--user", testUser, "--expires", "5m"}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "at least 15m") {
		t.Errorf("a 5-minute credential_process key: %v", err)
	}
}

// TestCredentialsHelp: each command's help lists its own flags only.
func TestCredentialsHelp(t *testing.T) {
	for cmd, c := range map[string]struct{ want, not []string }{
		"create":  {want: []string{"-user", "-expires", "-data-dir"}, not: []string{"-id"}},
		"process": {want: []string{"-user", "-expires", "-data-dir", "credential_process"}, not: []string{"-id"}},
		"list":    {want: []string{"-user", "-data-dir"}, not: []string{"-id", "-expires"}},
		"delete":  {want: []string{"-id", "-data-dir"}, not: []string{"-user", "-expires"}},
	} {
		var out, errOut bytes.Buffer
		err := run(context.Background(), []string{"credentials", cmd, "-h"}, &out, &errOut)
		if !errors.Is(err, flag.ErrHelp) {
			t.Errorf("%s -h: %v", cmd, err)
		}
		help := errOut.String()
		if !strings.HasPrefix(help, "Usage: carillon credentials "+cmd+" ") {
			t.Errorf("%s -h starts with %q", cmd, strings.SplitN(help, "\n", 2)[0])
		}
		for _, f := range c.want {
			if !strings.Contains(help, f) {
				t.Errorf("%s -h does not mention %s:\n%s", cmd, f, help)
			}
		}
		for _, f := range c.not {
			if strings.Contains(help, "  "+f+" ") {
				t.Errorf("%s -h lists the flag %s of another command:\n%s", cmd, f, help)
			}
		}
	}
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"credentials", "help"}, &out, &errOut); err != nil || !strings.Contains(out.String(), "process") || !strings.Contains(out.String(), "list") {
		t.Errorf("credentials help: %v\n%s", err, out.String())
	}
	if err := run(context.Background(), []string{"credentials", "rotate"}, &out, &errOut); err == nil {
		t.Error("an unknown credentials command was accepted")
	}
}
