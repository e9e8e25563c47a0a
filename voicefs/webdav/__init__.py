"""The drive over WebDAV (`voicefs serve webdav`), for the desktops where FUSE is a struggle:
WsgiDAV's resources on the drive's door (`provider`), statuses for its errors (`statuses`),
and the server, its authentication and its address rules (`server`)."""
