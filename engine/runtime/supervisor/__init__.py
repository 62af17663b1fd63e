"""The per-container supervisor (like conmon): one small detached process for each running container.

It starts the container's PID 1, holds its stdio (pipes or the pty master), writes the json-file log,
serves the attach socket, runs the health checks, records the exit status (128+signal), OOM kills and
times, applies the restart policy, and tears down the cgroup and networking when the container ends. It is
detached from its caller (double fork, own session), so containers outlive the CLI or the app that started
them. One module per job:

- ``spawning``: the caller's side: the supervisor forked ahead of its container, and its report read back;
- ``process``: the detached process, from the fork to its end (detach, preload the launcher, wait for the
  container's ID); ``python -m engine.runtime.supervisor.process`` for a caller with threads;
- ``mainloop``: ``Supervisor``: start, serve until PID 1 exits, restart or finish;
- ``cgroup``: the container's cgroup, made in a thread while PID 1 sets up its root;
- ``launching``: PID 1 started: its stdio, its spec, networking before it execs;
- ``relay``: PID 1's output to the json-file log and to attached clients, their input and window sizes
  back to it;
- ``health``: HEALTHCHECK probes, run from the loop;
- ``exiting``: PID 1's exit status, the teardown, the restart decision and the end;
- ``poller``: what the loop waits on (epoll).
"""
