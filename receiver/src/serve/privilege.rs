//! Dropping root once the listeners are bound: a picket started as root (to bind 514 or 6514
//! without systemd's socket units) becomes the configured `user` and `group` before it opens
//! the store or reads a byte from the network, so a parser bug cannot be a root compromise.
//!
//! The order matters: the query socket is handed to the user first (it was made by root, mode
//! 0600: the user's own clients could not connect otherwise), then the supplementary groups
//! are cleared, then the group is set, then the user (after setuid the others are refused). A
//! data directory made by this run is handed over too; one that already exists must already
//! be writable by the user, and the error says how to make it so. Under systemd none of this
//! runs: the unit binds the ports and starts picket as a dynamic user with no capability.

use std::ffi::CString;
use std::path::Path;

use crate::error::Error;

/// The account serve runs as once the ports are bound (`user` / `group` keys, `--user` /
/// `--group`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunAs {
    /// User name or numeric uid.
    pub user: String,
    /// Group name or numeric gid; default: the user's primary group.
    pub group: Option<String>,
}

/// A looked-up account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Account {
    uid: libc::uid_t,
    gid: libc::gid_t,
}

/// Becomes `run_as` if running as root; `socket` and (when `data_created`) `data` are handed
/// over first. Not root: fine when already that user, an error otherwise.
pub fn drop_root(
    run_as: &RunAs,
    socket: &Path,
    socket_group: Option<&str>,
    data: &Path,
    data_created: bool,
) -> Result<(), Error> {
    let account = lookup(run_as)?;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let euid = unsafe { libc::geteuid() };
    if euid != 0 {
        if euid == account.uid {
            tracing::info!(user = %run_as.user, "already running as the configured user");
            return Ok(());
        }
        return Err(Error::config_key(
            "user",
            format!(
                "serve is to run as {} (uid {}), but it was started as uid {euid}, \
             not root, so it cannot become that user: start it as root (it drops root once the \
             ports are bound) or as {}, or leave the key out",
                run_as.user, account.uid, run_as.user
            ),
        ));
    }
    // The socket's group stays socket_group when one is configured (0660 for its members).
    let socket_gid = match socket_group {
        Some(g) => Some(group_id(g)?),
        None => Some(account.gid),
    };
    std::os::unix::fs::chown(socket, Some(account.uid), socket_gid).map_err(|source| {
        Error::File {
            op: "hand the query socket to the configured user",
            path: socket.to_path_buf(),
            source,
        }
    })?;
    if data_created {
        std::os::unix::fs::chown(data, Some(account.uid), Some(account.gid)).map_err(|source| {
            Error::File {
                op: "hand the new data directory to the configured user",
                path: data.to_path_buf(),
                source,
            }
        })?;
    }
    let gids = [account.gid];
    // SAFETY: gids outlives the call and its length is passed with it.
    if unsafe { libc::setgroups(gids.len(), gids.as_ptr()) } != 0 {
        return Err(os_error("setgroups"));
    }
    // SAFETY: plain system calls on integers.
    if unsafe { libc::setgid(account.gid) } != 0 {
        return Err(os_error("setgid"));
    }
    // SAFETY: as above. glibc applies it to every thread of the process (the runtime's too).
    if unsafe { libc::setuid(account.uid) } != 0 {
        return Err(os_error("setuid"));
    }
    // A drop that could be undone is no drop.
    // SAFETY: as above.
    if account.uid != 0 && unsafe { libc::setuid(0) } == 0 {
        return Err(Error::Usage(
            "dropped root, but could become root again: refusing to run".into(),
        ));
    }
    tracing::info!(
        user = %run_as.user,
        uid = account.uid,
        gid = account.gid,
        "dropped root after binding the listeners"
    );
    writable(data, &run_as.user)
}

/// Without `user`: a serve running as root says so once, with what to do about it.
pub fn warn_if_root() {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } == 0 {
        tracing::warn!(
            "running as root: set `user` in the config (or --user) to drop root once the ports \
             are bound, or let systemd bind them (deploy/picket.service)"
        );
    }
}

/// After the drop: the store must be writable, or nothing would be stored.
fn writable(data: &Path, user: &str) -> Result<(), Error> {
    let Ok(c) = CString::new(data.as_os_str().as_encoded_bytes()) else {
        return Err(Error::Usage(format!(
            "data directory {} has a NUL byte in its name",
            data.display()
        )));
    };
    // SAFETY: c is a valid NUL-terminated string for the duration of the call.
    if unsafe { libc::access(c.as_ptr(), libc::W_OK | libc::X_OK) } == 0 {
        return Ok(());
    }
    Err(Error::Usage(format!(
        "data directory {dir} is not writable by {user}, the user serve runs as after binding: \
         `chown -R {user}: {dir}` (or point --data at a directory {user} owns)",
        dir = data.display()
    )))
}

fn os_error(call: &str) -> Error {
    Error::Usage(format!(
        "cannot drop root ({call}): {}",
        std::io::Error::last_os_error()
    ))
}

/// The uid and gid of `run_as`: names through the system's user database, or numbers.
fn lookup(run_as: &RunAs) -> Result<Account, Error> {
    let (uid, primary) = user_ids(&run_as.user)?;
    let gid = match &run_as.group {
        Some(g) => group_id(g)?,
        None => primary,
    };
    Ok(Account { uid, gid })
}

/// A user's uid and primary gid; a number that names no user keeps itself as its group.
fn user_ids(user: &str) -> Result<(libc::uid_t, libc::gid_t), Error> {
    let name =
        CString::new(user).map_err(|_| Error::config_key("user", "a NUL byte in the name"))?;
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    // SAFETY: an all-zero passwd is a valid value to be filled in.
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut found: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer is valid for the call; buf's length is passed with it.
    let rc = unsafe {
        libc::getpwnam_r(
            name.as_ptr(),
            &mut pwd,
            buf.as_mut_ptr(),
            buf.len(),
            &mut found,
        )
    };
    if rc == 0 && !found.is_null() {
        return Ok((pwd.pw_uid, pwd.pw_gid));
    }
    match user.parse::<libc::uid_t>() {
        Ok(uid) => Ok((uid, uid)),
        Err(_) => Err(Error::config_key(
            "user",
            format!("no user {user:?} on this system (getent passwd {user})"),
        )),
    }
}

/// A group's gid, by name or number.
fn group_id(group: &str) -> Result<libc::gid_t, Error> {
    let name =
        CString::new(group).map_err(|_| Error::config_key("group", "a NUL byte in the name"))?;
    let mut buf = vec![0 as libc::c_char; 64 * 1024];
    // SAFETY: an all-zero group is a valid value to be filled in.
    let mut grp: libc::group = unsafe { std::mem::zeroed() };
    let mut found: *mut libc::group = std::ptr::null_mut();
    // SAFETY: every pointer is valid for the call; buf's length is passed with it.
    let rc = unsafe {
        libc::getgrnam_r(
            name.as_ptr(),
            &mut grp,
            buf.as_mut_ptr(),
            buf.len(),
            &mut found,
        )
    };
    if rc == 0 && !found.is_null() {
        return Ok(grp.gr_gid);
    }
    group.parse::<libc::gid_t>().map_err(|_| {
        Error::Usage(format!(
            "no group {group:?} on this system (getent group {group})"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_and_numbers_are_found() {
        let root = lookup(&RunAs {
            user: "root".into(),
            group: None,
        })
        .unwrap();
        assert_eq!(root, Account { uid: 0, gid: 0 });
        let n = lookup(&RunAs {
            user: "4242".into(),
            group: Some("4343".into()),
        })
        .unwrap();
        assert_eq!(
            n,
            Account {
                uid: 4242,
                gid: 4343
            }
        );
    }

    #[test]
    fn an_unknown_name_is_a_clear_error() {
        let e = lookup(&RunAs {
            user: "no-such-user-here".into(),
            group: None,
        })
        .unwrap_err()
        .to_string();
        assert!(e.contains("no user \"no-such-user-here\""), "{e}");
        let e = group_id("no-such-group-here").unwrap_err().to_string();
        assert!(e.contains("no group \"no-such-group-here\""), "{e}");
    }
}
