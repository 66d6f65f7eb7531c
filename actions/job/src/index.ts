// One bundle serves both steps (action.yml names it as main and post); main leaves `isPost` in state so
// this process knows which step it is.
import { isPostStep } from '../../common/src/github.js';
import { runMain } from './main.js';
import { runPost } from './post.js';

await (isPostStep() ? runPost() : runMain());
