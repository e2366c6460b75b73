// The tests reach the HTTP/2 client through TestSupport.
@_exported import HTTP2Client
