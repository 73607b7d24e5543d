export { dashboardPlugin } from './dashboard-plugin.js';
