/**
 * The runnable samples in {@code pbj-samples.jar}: the launcher ({@link io.pbj.samples.Samples})
 * and the cache inspector; the world, chat and echo samples are in the sub-packages.
 */
package io.pbj.samples;
