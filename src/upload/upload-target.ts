/** Where the bytes of an upload come from, or the link to attach. */
export type UploadTarget =
  { kind: 'file'; path: string } | { kind: 'url'; url: string } | { kind: 'link'; url: string };
