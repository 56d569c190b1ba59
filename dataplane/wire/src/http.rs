//! HTTP request and response heads in the first segment of a TCP payload: method, target
//! (absolute-URI proxy requests and CONNECT included), Host, status code, Server, and the
//! schemes of Authorization / Proxy-Authorization / WWW-Authenticate / Proxy-Authenticate,
//! with the NTLM/Negotiate token (base64) when there is one.
use crate::error::{Error, Result};

/// An authentication scheme named in a header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthScheme {
    Ntlm,
    Negotiate,
    Basic,
    Digest,
    Bearer,
    Other,
}

impl AuthScheme {
    fn parse(s: &[u8]) -> AuthScheme {
        match s {
            _ if s.eq_ignore_ascii_case(b"NTLM") => AuthScheme::Ntlm,
            _ if s.eq_ignore_ascii_case(b"Negotiate") => AuthScheme::Negotiate,
            _ if s.eq_ignore_ascii_case(b"Basic") => AuthScheme::Basic,
            _ if s.eq_ignore_ascii_case(b"Digest") => AuthScheme::Digest,
            _ if s.eq_ignore_ascii_case(b"Bearer") => AuthScheme::Bearer,
            _ => AuthScheme::Other,
        }
    }
    pub fn as_str(&self) -> &'static str {
        match self {
            AuthScheme::Ntlm => "NTLM",
            AuthScheme::Negotiate => "Negotiate",
            AuthScheme::Basic => "Basic",
            AuthScheme::Digest => "Digest",
            AuthScheme::Bearer => "Bearer",
            AuthScheme::Other => "other",
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub struct HttpHead<'a> {
    /// Requests: the method ("GET", "CONNECT").
    pub method: &'a [u8],
    /// Requests: the target ("/wpad.dat", "http://host/x", "host:443").
    pub target: &'a [u8],
    /// Responses: the status code.
    pub status: Option<u16>,
    pub host: &'a [u8],
    pub server: &'a [u8],
    pub user_agent: &'a [u8],
    /// Authorization (client → server).
    pub authorization: Option<AuthScheme>,
    /// Proxy-Authorization (client → proxy).
    pub proxy_authorization: Option<AuthScheme>,
    /// WWW-Authenticate (server → client), first one.
    pub www_authenticate: Option<AuthScheme>,
    /// Proxy-Authenticate (proxy → client), first one.
    pub proxy_authenticate: Option<AuthScheme>,
    /// The base64 token after NTLM/Negotiate in any of those headers, if present.
    pub auth_token: &'a [u8],
    /// The head ended (an empty line was seen) within the segment.
    pub complete: bool,
}

const METHODS: [&[u8]; 9] = [b"GET", b"POST", b"HEAD", b"PUT", b"CONNECT", b"OPTIONS", b"DELETE", b"PATCH", b"PROPFIND"];

/// Whether `b` can start an HTTP head (a method or "HTTP/1."): G, P, H, C, O or D.
#[inline(always)]
pub fn http_first_byte(b: u8) -> bool {
    matches!(b, b'G' | b'P' | b'H' | b'C' | b'O' | b'D')
}

/// True when `p` starts like an HTTP request or response head (cheap, for dispatch).
#[inline]
pub fn looks_like_http(p: &[u8]) -> bool {
    // Every method and "HTTP/1." start with one of these letters: most payloads stop here.
    if !p.first().is_some_and(|&b| http_first_byte(b)) {
        return false;
    }
    p.starts_with(b"HTTP/1.") || METHODS.iter().any(|m| p.len() > m.len() && p.starts_with(m) && p[m.len()] == b' ')
}

impl<'a> HttpHead<'a> {
    pub fn parse(p: &'a [u8]) -> Result<HttpHead<'a>> {
        let mut lines = Lines { rest: p, ended: false };
        let first = lines.next().ok_or(Error::Truncated)?;
        let mut h = HttpHead::default();
        let mut parts = first.splitn(3, |&c| c == b' ');
        let a = parts.next().unwrap_or(&[]);
        let b = parts.next().ok_or(Error::Malformed("HTTP start line has no space"))?;
        let c = parts.next().unwrap_or(&[]);
        if a.starts_with(b"HTTP/1.") {
            let code = std::str::from_utf8(b).ok().and_then(|s| s.parse::<u16>().ok());
            h.status = Some(code.filter(|c| (100..1000).contains(c)).ok_or(Error::Malformed("HTTP status is not 3 digits"))?);
        } else {
            if !METHODS.contains(&a) {
                return Err(Error::Malformed("unknown HTTP method"));
            }
            if !c.starts_with(b"HTTP/1.") {
                return Err(Error::Malformed("HTTP request line has no version"));
            }
            h.method = a;
            h.target = b;
        }
        for line in lines.by_ref() {
            if line.is_empty() {
                h.complete = true;
                break;
            }
            let Some(colon) = line.iter().position(|&c| c == b':') else { continue };
            let (k, v) = (&line[..colon], trim(&line[colon + 1..]));
            if k.eq_ignore_ascii_case(b"Host") {
                h.host = v;
            } else if k.eq_ignore_ascii_case(b"Server") {
                h.server = v;
            } else if k.eq_ignore_ascii_case(b"User-Agent") {
                h.user_agent = v;
            } else if k.eq_ignore_ascii_case(b"Authorization") {
                h.authorization = Some(h.scheme(v));
            } else if k.eq_ignore_ascii_case(b"Proxy-Authorization") {
                h.proxy_authorization = Some(h.scheme(v));
            } else if k.eq_ignore_ascii_case(b"WWW-Authenticate") && h.www_authenticate.is_none() {
                h.www_authenticate = Some(h.scheme(v));
            } else if k.eq_ignore_ascii_case(b"Proxy-Authenticate") && h.proxy_authenticate.is_none() {
                h.proxy_authenticate = Some(h.scheme(v));
            }
        }
        Ok(h)
    }

    fn scheme(&mut self, v: &'a [u8]) -> AuthScheme {
        let (s, rest) = match v.iter().position(|&c| c == b' ') {
            Some(i) => (&v[..i], trim(&v[i + 1..])),
            None => (v, &[][..]),
        };
        let scheme = AuthScheme::parse(s);
        if matches!(scheme, AuthScheme::Ntlm | AuthScheme::Negotiate) && !rest.is_empty() && self.auth_token.is_empty() {
            self.auth_token = rest;
        }
        scheme
    }

    pub fn is_request(&self) -> bool {
        !self.method.is_empty()
    }

    /// The host without a port: from Host, else from an absolute-URI or CONNECT target.
    pub fn host_name(&self) -> &'a [u8] {
        let mut h = self.host;
        if h.is_empty() {
            h = self.target;
            if let Some(i) = find(h, b"://") {
                h = &h[i + 3..];
            }
            if let Some(i) = h.iter().position(|&c| c == b'/') {
                h = &h[..i];
            }
        }
        match h.iter().rposition(|&c| c == b':') {
            Some(i) if !h.starts_with(b"[") || h[..i].ends_with(b"]") => &h[..i],
            _ => h,
        }
    }

    /// The path of the target ("/wpad.dat" also for "http://wpad/wpad.dat").
    pub fn path(&self) -> &'a [u8] {
        let t = self.target;
        match find(t, b"://") {
            Some(i) => {
                let rest = &t[i + 3..];
                rest.iter().position(|&c| c == b'/').map(|j| &rest[j..]).unwrap_or(b"/")
            }
            None => t,
        }
    }
}

fn trim(v: &[u8]) -> &[u8] {
    let s = v.iter().position(|c| !c.is_ascii_whitespace()).unwrap_or(v.len());
    let e = v.iter().rposition(|c| !c.is_ascii_whitespace()).map(|i| i + 1).unwrap_or(s);
    &v[s..e.max(s)]
}

pub(crate) fn find(h: &[u8], n: &[u8]) -> Option<usize> {
    if n.is_empty() || h.len() < n.len() {
        return None;
    }
    h.windows(n.len()).position(|w| w == n)
}

struct Lines<'a> {
    rest: &'a [u8],
    ended: bool,
}

impl<'a> Iterator for Lines<'a> {
    type Item = &'a [u8];
    fn next(&mut self) -> Option<&'a [u8]> {
        if self.ended {
            return None;
        }
        match self.rest.iter().position(|&c| c == b'\n') {
            Some(i) => {
                let line = &self.rest[..i];
                self.rest = &self.rest[i + 1..];
                Some(line.strip_suffix(b"\r").unwrap_or(line))
            }
            None => {
                self.ended = true;
                // A partial last line (the head continues in the next segment) is not returned.
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wpad_request() {
        let p = b"GET /wpad.dat HTTP/1.1\r\nHost: wpad\r\nUser-Agent: WinHttp-Autoproxy-Service/5.1\r\n\r\n";
        assert!(looks_like_http(p));
        let h = HttpHead::parse(p).unwrap();
        assert_eq!(h.method, b"GET");
        assert_eq!(h.path(), b"/wpad.dat");
        assert_eq!(h.host_name(), b"wpad");
        assert!(h.complete);
    }

    #[test]
    fn proxy_407_ntlm_and_responder_server() {
        let p = b"HTTP/1.1 407 Unauthorized\r\nServer: BigIP\r\nProxy-Authenticate: NTLM TlRMTVNTUAACAAAA\r\nContent-Length: 0\r\n\r\n";
        let h = HttpHead::parse(p).unwrap();
        assert_eq!(h.status, Some(407));
        assert_eq!(h.server, b"BigIP");
        assert_eq!(h.proxy_authenticate, Some(AuthScheme::Ntlm));
        assert_eq!(h.auth_token, b"TlRMTVNTUAACAAAA");
    }

    #[test]
    fn proxy_forms() {
        let h = HttpHead::parse(b"GET http://intranet.corp:8080/x?y HTTP/1.1\r\nProxy-Authorization: Basic Zm9v\r\n\r\n").unwrap();
        assert_eq!(h.host_name(), b"intranet.corp");
        assert_eq!(h.path(), b"/x?y");
        assert_eq!(h.proxy_authorization, Some(AuthScheme::Basic));
        let h = HttpHead::parse(b"CONNECT login.example:443 HTTP/1.1\r\n").unwrap();
        assert_eq!(h.host_name(), b"login.example");
        assert!(!h.complete);
    }

    #[test]
    fn malformed() {
        assert!(HttpHead::parse(b"GET /").is_err());
        assert!(HttpHead::parse(b"GET / FTP/1.0\r\n").is_err());
        assert!(HttpHead::parse(b"HTTP/1.1 4x7 Nope\r\n").is_err());
        assert!(HttpHead::parse(b"FETCH / HTTP/1.1\r\n").is_err());
        assert!(!looks_like_http(b"\x16\x03\x01"));
    }
}
