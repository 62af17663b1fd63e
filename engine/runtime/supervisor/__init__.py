"""The supervisor (like conmon, but one process for all of a root's running containers): for each container,
in a thread of its own, it starts PID 1, holds its stdio (pipes or the pty master), writes the json-file log,
serves the attach socket, runs the health checks, records the exit status (128+signal), OOM kills and
times, applies the restart policy, and tears down the cgroup and networking when the container ends. The
process is detached from its callers (double fork, own session), so containers outlive the CLI or the app
that started them; it ends a few seconds after its last container. One module per job:

- ``spawning``: the caller's side: the connection made ahead of the container (and the process made when
  none runs), the report read back;
- ``host``: the process: its socket, a thread per container, its end;
- ``process``: one container's thread, from the caller's request to its end; what the process preloads;
- ``mainloop``: ``Supervisor``: start, serve until PID 1 exits, restart or finish;
- ``cgroup``: the container's cgroup, made in a thread while PID 1 sets up its root;
- ``launching``: PID 1 started: its stdio, its spec, networking before it execs;
- ``relay``: PID 1's output to the json-file log and to attached clients, their input and window sizes
  back to it;
- ``health``: HEALTHCHECK probes, run from the loop;
- ``exiting``: PID 1's exit status, the teardown, the restart decision and the end;
- ``poller``: what the loop waits on (epoll).
"""
