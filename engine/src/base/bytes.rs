//! Little-endian accessors for fixed-width integers.
//!
//! All integers in every on-disk structure (pages, log frames, redo
//! records) are little-endian and fixed width. Readers of untrusted bytes
//! use the checked accessors ([`get_u16`] and friends), which return
//! `None` rather than index out of bounds; the unchecked ones are only
//! for buffers this process built or already validated.

// ---- checked accessors, for bytes read from disk ----

pub(crate) fn get_u16(b: &[u8], off: usize) -> Option<u16> {
    Some(u16::from_le_bytes(
        b.get(off..off.checked_add(2)?)?.try_into().ok()?,
    ))
}

pub(crate) fn get_u32(b: &[u8], off: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        b.get(off..off.checked_add(4)?)?.try_into().ok()?,
    ))
}

pub(crate) fn get_u64(b: &[u8], off: usize) -> Option<u64> {
    Some(u64::from_le_bytes(
        b.get(off..off.checked_add(8)?)?.try_into().ok()?,
    ))
}

// ---- unchecked accessors, for buffers already validated ----

#[inline]
pub(crate) fn u16_at(b: &[u8], off: usize) -> u16 {
    // One bounds check for the pair (the conversion cannot fail).
    u16::from_le_bytes(b[off..off + 2].try_into().unwrap_or_default())
}

#[inline]
pub(crate) fn u32_at(b: &[u8], off: usize) -> u32 {
    u32::from_le_bytes(b[off..off + 4].try_into().unwrap_or_default())
}

#[inline]
pub(crate) fn put_u16(b: &mut [u8], off: usize, v: u16) {
    b[off..off + 2].copy_from_slice(&v.to_le_bytes());
}

#[inline]
pub(crate) fn put_u32(b: &mut [u8], off: usize, v: u32) {
    b[off..off + 4].copy_from_slice(&v.to_le_bytes());
}

#[inline]
pub(crate) fn put_u64(b: &mut [u8], off: usize, v: u64) {
    b[off..off + 8].copy_from_slice(&v.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checked_accessors_refuse_out_of_bounds() {
        let b = [1u8, 2, 3];
        assert_eq!(get_u16(&b, 1), Some(0x0302));
        assert_eq!(get_u16(&b, 2), None);
        assert_eq!(get_u32(&b, 0), None);
        assert_eq!(get_u64(&b, usize::MAX), None);
    }
}
