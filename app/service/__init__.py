"""The Docker Engine API served over a socket (``dockyard system service``): a client of the engine's public
API, as the CLI is; routes/ translates each endpoint into engine calls and Docker's JSON shapes."""
