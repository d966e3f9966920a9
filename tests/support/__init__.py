"""Helpers the tests share (no test module imports another): `env` (paths, the server command, a
subprocess environment), `http` (one real HTTP server and the SDK client over it), `mcp` (calling
tools and reading their answers), `wait` (polling until something holds), `team` (several users on
one HTTP server), `jwt_keys` (signing keys and tokens for OAuth), `pg` (a throwaway PostgreSQL
cluster), `faultkit` (real storage faults), `rawclient` (an SDK-free stdio client)."""
