"""SFTP drop site: a chrooted, upload-atomic SFTP server for merchant feeds and reports."""

from .paths import is_published
from .server import Authenticator, SftpServer, SftpSettings

__all__ = ["Authenticator", "SftpServer", "SftpSettings", "is_published"]
