//! A zero-filled heap block aligned to `kiln_abi::BUFFER_ALIGN`: the per-run arena plus staging
//! copies of caller buffers that are not aligned.

use kiln_abi::BUFFER_ALIGN;
use std::alloc::{alloc_zeroed, dealloc, handle_alloc_error, Layout};
use std::ptr::NonNull;

pub(crate) struct AlignedBuf {
    ptr: NonNull<u8>,
    layout: Layout,
}

impl AlignedBuf {
    /// `len` zero bytes (at least one alignment unit is allocated, so the pointer is always real).
    /// `None` when `len` is too large to describe as a layout.
    pub(crate) fn zeroed(len: usize) -> Option<AlignedBuf> {
        let layout = Layout::from_size_align(len.max(BUFFER_ALIGN), BUFFER_ALIGN).ok()?;
        // SAFETY: the layout has a nonzero size.
        let raw = unsafe { alloc_zeroed(layout) };
        let Some(ptr) = NonNull::new(raw) else { handle_alloc_error(layout) };
        Some(AlignedBuf { ptr, layout })
    }

    /// Its length in bytes (at least what was asked for).
    pub(crate) fn len(&self) -> usize {
        self.layout.size()
    }

    /// Pointer to byte `offset`; the caller keeps `offset` within the length it asked for.
    pub(crate) fn at(&self, offset: usize) -> *mut u8 {
        debug_assert!(offset <= self.layout.size());
        // SAFETY: offset is within (or one past) the allocation.
        unsafe { self.ptr.as_ptr().add(offset) }
    }

    /// The bytes `offset..offset + len`.
    #[cfg(test)]
    pub(crate) fn slice(&self, offset: usize, len: usize) -> &[u8] {
        assert!(offset.checked_add(len).is_some_and(|end| end <= self.layout.size()));
        // SAFETY: bounds checked above; the block is initialized (zeroed) memory.
        unsafe { std::slice::from_raw_parts(self.at(offset), len) }
    }

    /// The bytes `offset..offset + len`, writable.
    #[cfg(test)]
    pub(crate) fn slice_mut(&mut self, offset: usize, len: usize) -> &mut [u8] {
        assert!(offset.checked_add(len).is_some_and(|end| end <= self.layout.size()));
        // SAFETY: bounds checked above; `&mut self` makes the borrow unique.
        unsafe { std::slice::from_raw_parts_mut(self.at(offset), len) }
    }
}

impl Drop for AlignedBuf {
    fn drop(&mut self) {
        // SAFETY: allocated in `zeroed` with this layout.
        unsafe { dealloc(self.ptr.as_ptr(), self.layout) }
    }
}

// SAFETY: AlignedBuf uniquely owns its block, like a Vec<u8>.
unsafe impl Send for AlignedBuf {}
unsafe impl Sync for AlignedBuf {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligned_and_zeroed() {
        for len in [0, 1, 63, 64, 65, 1 << 20] {
            let mut b = AlignedBuf::zeroed(len).expect("layout");
            assert_eq!(b.at(0) as usize % BUFFER_ALIGN, 0);
            assert!(b.slice(0, len).iter().all(|&x| x == 0));
            if len > 0 {
                b.slice_mut(len - 1, 1)[0] = 7;
                assert_eq!(b.slice(len - 1, 1), &[7]);
            }
        }
        assert!(AlignedBuf::zeroed(usize::MAX).is_none());
    }
}
