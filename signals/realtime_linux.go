package signals

// The real-time signals as glibc (and so kill(1) and bash) number them:
// the kernel's start at 32, but glibc keeps 32 and 33 for its threads.
const rtMin, rtMax = 34, 64
