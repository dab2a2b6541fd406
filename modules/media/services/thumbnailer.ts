/**
 * Image work through sharp (libvips): probing dimensions from the header alone, and scaling or cropping to
 * a target size without ever upscaling. Images over `maxImagePixels` are refused before any decoding.
 *
 * sharp is imported on the first image, not at boot: loading libvips costs ~28 MiB of resident memory (and
 * its worker threads) that a server which never sees an image should not pay.
 */
import type sharpFactory from 'sharp';
import { MatrixError } from '../../../core/errors.js';

type Sharp = typeof sharpFactory;
let sharpLoaded: Promise<Sharp> | undefined;

/** sharp, imported once on first use. */
function loadSharp(): Promise<Sharp> {
  sharpLoaded ??= import('sharp').then((m) => m.default);
  return sharpLoaded;
}

export type ThumbnailMethod = 'crop' | 'scale';

export interface ImageInfo {
  readonly width: number;
  /** Height of one frame (for animations, sharp's pageHeight). */
  readonly height: number;
  readonly frames: number;
  readonly format: string;
}

export interface Thumbnail {
  readonly data: Buffer;
  readonly mediaType: string;
  readonly width: number;
  readonly height: number;
  readonly animated: boolean;
}

/** Source types we thumbnail; everything else answers 400 as the spec's thumbnail endpoint allows. */
export const THUMBNAILABLE_TYPES: ReadonlySet<string> = new Set([
  'image/jpeg',
  'image/jpg',
  'image/png',
  'image/gif',
  'image/webp',
]);
const ANIMATABLE_TYPES: ReadonlySet<string> = new Set(['image/gif', 'image/webp']);

export const cannotThumbnail = (): MatrixError =>
  new MatrixError(400, 'M_UNKNOWN', 'Cannot generate thumbnails for the requested content');
const tooLarge = (): MatrixError => new MatrixError(413, 'M_TOO_LARGE', 'Content is too large to thumbnail');

export class Thumbnailer {
  constructor(private readonly maxImagePixels: number) {}

  /** Dimensions from the image header (no pixel decoding); undefined when it is not a readable image. */
  async probe(data: Buffer): Promise<ImageInfo | undefined> {
    const sharp = await loadSharp();
    try {
      const meta = await sharp(data, { limitInputPixels: false }).metadata();
      if (!meta.width || !meta.height || !meta.format) return undefined;
      return {
        width: meta.width,
        height: meta.pageHeight ?? meta.height,
        frames: meta.pages ?? 1,
        format: meta.format,
      };
    } catch {
      return undefined;
    }
  }

  /** Throws 413 M_TOO_LARGE when one frame has more pixels than `max_image_pixels`. */
  assertWithinPixelLimit(info: ImageInfo): void {
    if (info.width * info.height > this.maxImagePixels) throw tooLarge();
  }

  /**
   * A thumbnail of `data` (of `sourceType`) for the target size. Animated output (WebP, as the spec prefers)
   * only when asked, when the source animates, and when all its frames fit the pixel limit together.
   */
  async generate(
    data: Buffer,
    sourceType: string,
    target: { width: number; height: number; method: ThumbnailMethod },
    options: { animated: boolean },
  ): Promise<Thumbnail> {
    if (!THUMBNAILABLE_TYPES.has(sourceType)) throw cannotThumbnail();
    const info = await this.probe(data);
    if (!info) throw cannotThumbnail();
    this.assertWithinPixelLimit(info);
    const animated =
      options.animated &&
      ANIMATABLE_TYPES.has(sourceType) &&
      info.frames > 1 &&
      info.width * info.height * info.frames <= this.maxImagePixels;
    const sharp = await loadSharp();
    try {
      let image = sharp(data, {
        animated,
        limitInputPixels: this.maxImagePixels,
      }).rotate(); // honour EXIF orientation, as viewers do
      const size = outputSize(info, target);
      image = image.resize({
        width: size.width,
        height: size.height,
        fit: target.method === 'crop' ? 'cover' : 'inside',
        withoutEnlargement: true,
      });
      let mediaType: string;
      if (animated) {
        image = image.webp({ quality: 80 });
        mediaType = 'image/webp';
      } else if (sourceType === 'image/jpeg' || sourceType === 'image/jpg') {
        image = image.jpeg({ quality: 80 });
        mediaType = 'image/jpeg';
      } else {
        image = image.png();
        mediaType = 'image/png';
      }
      const { data: out, info: outInfo } = await image.toBuffer({ resolveWithObject: true });
      return {
        data: out,
        mediaType,
        width: outInfo.width,
        height: animated ? (outInfo.pageHeight ?? outInfo.height) : outInfo.height,
        animated,
      };
    } catch (err) {
      if (err instanceof MatrixError) throw err;
      throw cannotThumbnail();
    }
  }
}

/**
 * The box to resize into. `scale` fits inside the target; `crop` covers it, except that a source smaller
 * than the target is cropped to the target's aspect at its own scale (the spec forbids upscaling).
 */
export function outputSize(
  source: { width: number; height: number },
  target: { width: number; height: number; method: ThumbnailMethod },
): { width: number; height: number } {
  if (target.method === 'scale') return { width: target.width, height: target.height };
  const factor = Math.max(target.width / source.width, target.height / source.height);
  if (factor <= 1) return { width: target.width, height: target.height };
  return {
    width: Math.max(1, Math.min(source.width, Math.round((source.height * target.width) / target.height))),
    height: Math.max(1, Math.min(source.height, Math.round((source.width * target.height) / target.width))),
  };
}
