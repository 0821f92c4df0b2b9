"""0.3.0 import path `pymcp.runtime.context`: the request context given to tools as `request_context`."""

from pymcp._unsupported import unsupported
from pymcp.server.context import RequestContext, SessionContext

__all__ = ["AppContext", "RequestContext", "SessionContext"]

AppContext = unsupported("pymcp.runtime.context.AppContext", "use `request_context.app` and its `app.state`")
