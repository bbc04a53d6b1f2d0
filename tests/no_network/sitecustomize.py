"""The network cut for Python alone: Python imports this at start-up when this folder is on
PYTHONPATH, and from then on every connection beyond this machine fails at once.

The tests cut the network with a network namespace (`unshare -n`) where they can; inside an
unprivileged container (Binder, a JupyterHub pod) that is refused, and they use this.
"""

import socket

_LOCAL_PREFIXES = ("127.", "::1", "localhost")


def _is_local(address) -> bool:
    if not isinstance(address, tuple):  # a Unix socket's path
        return True
    return str(address[0]).startswith(_LOCAL_PREFIXES)


def _connect(original):
    def connect(self, address):
        if not _is_local(address):
            raise OSError(f"network cut (tests/no_network): no connection to {address}")
        return original(self, address)
    return connect


def _getaddrinfo(original):
    def getaddrinfo(host, *args, **kwargs):
        if host is not None and not _is_local((host,)):
            raise socket.gaierror(f"network cut (tests/no_network): no lookup of {host}")
        return original(host, *args, **kwargs)
    return getaddrinfo


socket.socket.connect = _connect(socket.socket.connect)
socket.socket.connect_ex = _connect(socket.socket.connect_ex)
socket.getaddrinfo = _getaddrinfo(socket.getaddrinfo)
