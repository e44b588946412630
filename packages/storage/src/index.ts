export { AttachmentError, AttachmentErrorCode } from './errors';
export type { GetSpec, ObjectStorage, PutSpec, SignedUrl } from './storage';
export { FsStorage, FILE_ROUTE, type FsStorageOptions } from './fs-storage';
export { S3Storage, contentDisposition, type S3StorageOptions } from './s3-storage';
export { GrantSigner, type FileGrant } from './signed-token';
export {
  ClamdScanner,
  ScannerUnavailableError,
  parseVerdict,
  type Scanner,
  type ScanVerdict,
} from './clamd';
export {
  AttachmentInspector,
  ScanPolicy,
  realType,
  type AttachmentLimits,
  type InspectInput,
  type InspectedFile,
} from './inspect';
export {
  attachmentEnv,
  createAttachmentRuntime,
  type AttachmentConfig,
  type AttachmentRuntime,
} from './config';
