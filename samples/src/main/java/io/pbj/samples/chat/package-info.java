/** The chat sample: perspectives, password login through a portal, Cacheable rooms. */
package io.pbj.samples.chat;
