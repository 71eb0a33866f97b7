// Express 4 is installed under an alias to test both majors; its API is typed like Express 5's here.
declare module 'express-v4' {
  import express from 'express';
  export default express;
}
