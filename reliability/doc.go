// Package reliability holds the tests that run `carillon serve` as a
// child process, to do to it what cannot be done in-process:
//
//   - TestKillNine kills the server with SIGKILL while clients send,
//     edit and change memberships, restarts it, and checks that every
//     acknowledged change is there once, that nothing is half applied
//     (every change and its outbox event, or neither), and that events
//     reach a session again. -cycles sets how many times (3 by default;
//     `make reliability` runs 20), -engines which stores (sqlite and
//     postgres, a database of its own on internal/pgtest's server).
//   - TestDescriptorExhaustion starts the server under a low `ulimit -n`
//     and floods it with idle and silent connections: /healthz and the
//     API keep answering.
//
// The tests build the binary once (with -race when they run with it),
// or use -carillon-binary.
package reliability
